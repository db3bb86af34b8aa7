"""The desk unit: NEXT and its companions, the rating pad and the counter display."""
