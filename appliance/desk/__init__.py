"""The desk unit: NEXT and its companions, the rating pad, and what the counter display shows."""
