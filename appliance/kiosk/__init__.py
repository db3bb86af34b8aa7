"""The kiosk: buttons that take a turn, durable numbering, the printed ticket and opening hours."""
