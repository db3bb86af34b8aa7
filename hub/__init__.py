"""The hub: the one authority on which turn each desk gets, the record of every fact (an append-only journal per
service day), what devices show after a restart, and the coordinators' page, report and CSV."""
