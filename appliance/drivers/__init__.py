"""Hardware behind small interfaces, each with its real implementation and a simulated one: the pins (gpiozero),
the ESC/POS printer, the desk's counter display, sound."""
