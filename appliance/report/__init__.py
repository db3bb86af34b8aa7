"""What the site's and the central's Informe share: the figures of a group of turns (tally), their HTML (html)
and its SVG bar charts (charts), in one stylesheet."""
