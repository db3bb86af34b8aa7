"""`turnero display`: this Pi's waiting-room screen, built from the site file and the command line, run as a
service."""
from __future__ import annotations

from appliance import site as site_config
from appliance.core.runtime import serve, state_dir
from appliance.display.unit import DisplayUnit
from appliance.drivers.sound import Announcer, EspeakSpeaker, SilentSpeaker
from appliance.screens.window import Screen


def main(args) -> int:
    config = site_config.load(args.config)
    site_config.require(args.id in config.displays, f"display {args.id!r} is not in {args.config}")
    settings = config.displays[args.id]
    speaker = EspeakSpeaker(volume=settings.volume) if settings.voice else SilentSpeaker()
    serve(DisplayUnit(config, args.id, state_dir=state_dir(args.state, "display"),
                      screen=Screen(settings.size, fullscreen=not args.windowed), announcer=Announcer(speaker)))
    return 0
