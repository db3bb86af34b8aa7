"""`turnero check`: a site file validated whole, and what it describes in one line."""
from __future__ import annotations

from appliance.site.load import load


def main(args) -> int:
    config = load(args.config)
    print(f"{args.config}: valid ({len(config.services)} services, {len(config.kiosks)} kiosk(s), "
          f"{len(config.desks)} desks, {len(config.displays)} display(s))")
    return 0
