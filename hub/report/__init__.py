"""The Informe Turnero: figures (what is counted, from the CSV's rows), render (the HTML) and charts (SVG)."""
