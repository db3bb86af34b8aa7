"""What tests and benchmarks share: roles driven in threads, a private broker's listener, the fault morning,
the busy day and its policy replay, and printed text read back from ESC/POS bytes."""
