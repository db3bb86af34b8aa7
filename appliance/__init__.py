"""The turnero's devices (kiosk/, desk/, display/), what they share with the hub (contract/, site/, core/), their
hardware and screen (drivers/, screens/), and the tooling around them (ops/ for technicians, dev/ for developers,
cli.py)."""
