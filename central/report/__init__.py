"""The central's Informe: its figures for a period and a set of sites (figures.py), added up from the roll-up,
and its HTML (render.py), with the parts of the site's Informe."""
