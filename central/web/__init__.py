"""The central's coordinators' page: the application and its routes (app.py), every site's live picture (live.py)
and what the live pages make of it (sites.py), the appointments ordered from the central (appointments.py)."""
