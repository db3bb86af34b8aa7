"""The coordinators' page: app (the server and its routes), auth (sign-in), live (the live view), queries (what a
request may ask), templates (the HTML), static (its script; the stylesheet is the report's)."""
