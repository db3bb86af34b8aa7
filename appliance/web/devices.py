"""What the coordinators' pages (the site's and the central's) say of a device the same way: its printer's state in
Spanish, and how far its clock may be from its hub's before it is flagged."""
from __future__ import annotations

MAX_SKEW_S = 60             # a device's clock further than this from its hub's is flagged
PRINTER_NAMES = {"ok": "Con papel", "low": "Poco papel", "out": "Sin papel", "offline": "Desconectada",
                 "unknown": "Estado desconocido"}
