"""The site configuration: one TOML file that every Pi of a site reads (example.toml is a whole one).

`load` reads and checks it (load.py); what it describes is in model.py. Importing this needs no MQTT library:
`turnero check` and the installer use it on a Pi that has none yet.
"""
from pathlib import Path

from appliance.site.load import HEADER_UARTS, PRINTER_KEYS, UART_PINS, load, parse, public_address_problem, require
from appliance.site.model import (CA_NAME, CENTRAL_CA, CENTRAL_PASSWORD, CODE_PAGES, COUNTER_CHARACTERS,
                                  COUNTER_ENCODING, DEFAULT_BRING, DEFAULT_CODE_PAGE, DEFAULT_CREDENTIALS_DIR, POLICIES,
                                  WEB_CERT, WEB_KEY, WEEKDAYS, AppointmentSettings, BrokerAddress, CentralLink,
                                  ConfigError, Desk, DeskPins, DeskSettings, Display, Hours, Kiosk, KioskButton, Login,
                                  PublicSettings, QueuePolicy, Service, SetupError, SiteConfig, WebSettings,
                                  appointment_prefix)

EXAMPLE = Path(__file__).parent / "example.toml"
__all__ = ["AppointmentSettings", "BrokerAddress", "CA_NAME", "CENTRAL_CA", "CENTRAL_PASSWORD", "CODE_PAGES",
           "COUNTER_CHARACTERS", "COUNTER_ENCODING", "CentralLink", "ConfigError", "DEFAULT_BRING", "DEFAULT_CODE_PAGE",
           "DEFAULT_CREDENTIALS_DIR", "Desk", "DeskPins", "DeskSettings", "Display", "EXAMPLE", "HEADER_UARTS", "Hours",
           "Kiosk", "KioskButton", "Login", "POLICIES", "PRINTER_KEYS", "PublicSettings", "QueuePolicy", "Service",
           "SetupError", "SiteConfig", "UART_PINS", "WEB_CERT", "WEB_KEY", "WEEKDAYS", "WebSettings",
           "appointment_prefix", "load", "parse", "public_address_problem", "require"]
