"""What tests and benchmarks share: roles driven in threads (roles), a technician's client on the broker
(listener), the fault morning (faults/), the busy day and its policy replay, a hub fed directly (hub_feed), the
screen's boards (scenes), and printed text read back from ESC/POS bytes (escpos_text)."""
