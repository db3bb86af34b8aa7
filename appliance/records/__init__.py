"""A service day's records as the hub writes them, and what both the hub and the central make of them: the day
as a fold (ledger) and its turns as CSV rows (turns_csv)."""
