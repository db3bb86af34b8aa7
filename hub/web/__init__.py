"""The coordinators' page: app (the Flask application, its routes and the component beside the hub loop),
server (cheroot: on the hub plain HTTP on the loopback behind nginx, appliance/ops/front.py; HTTPS
itself elsewhere), accounts (accounts and sessions), auth (passwords, the sign-in throttle), live (the
live view), queries (what a request may ask), templates (Jinja2), static (its script; the stylesheet is the
report's)."""
