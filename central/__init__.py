"""The organisation's central: every site's record in one PostgreSQL, shipped by each site's hub through a
Mosquitto bridge (docs/central.md). A role of its own: it shares the contract, the decode path, the fold and the
CSV's rows with the hub (appliance/), never the hub's code."""
