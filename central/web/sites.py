"""What the central's live pages show of each site: a card for the overview, the whole picture for one site and
every device for the technician, from the site's live picture (central/web/live.py) and what the ingest knows of
its bridge (the `sites` table). A figure is never shown as current when it is not: a site whose bridge is down,
or whose picture is older than STALE_S, says since when its figures are."""
from __future__ import annotations

from datetime import datetime

from appliance.core.spanish import clock, plural
from appliance.web.devices import MAX_SKEW_S, PRINTER_NAMES
from central.web.live import STALE_S, Pictures, SiteLive

_DESK = {"open": "Abierto", "paused": "En pausa", "closed": "Cerrado", "unknown": "Sin reporte"}
_DESKS = {"open": ("abierto", "abiertos"), "paused": ("en pausa", "en pausa"), "closed": ("cerrado", "cerrados"),
          "unknown": ("sin reporte", "sin reporte")}
CARD_ALARMS = 3             # a card lists this many alarms and says how many more the site's page has


def _bridges(db, sites: list[str]) -> dict[str, tuple[bool | None, datetime | None, str | None]]:
    return {site: (up, since, software) for site, up, since, software in db.execute(
        "SELECT site, bridge_up, bridge_since, software FROM sites WHERE site = ANY(%s)", (sites,))}


def ago(seconds: float) -> str:
    """'hace 12 s', 'hace 3 min', 'hace 2 h'."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"hace {seconds} s"
    if seconds < 3600:
        return f"hace {seconds // 60} min"
    hours = seconds // 3600
    return f"hace {hours} h" if hours < 48 else f"hace {hours // 24} días"


def _freshness(live: SiteLive, bridge: tuple, now: datetime) -> tuple[bool, str]:
    """(stale, the sentence that says how fresh the figures are)."""
    up, since, _ = bridge
    age = live.age_s(now)
    if live.picture is None:
        return True, "Todavía no hay datos en vivo de esta sede."
    made = clock(live.made_at.astimezone(now.tzinfo))
    if up is False:
        down = f" desde las {clock(since.astimezone(now.tzinfo))}" if since else ""
        return True, f"Sin conexión con la sede{down}: cifras de las {made}, no actuales."
    if age > STALE_S:
        return True, f"La sede no envía datos desde las {made}: cifras no actuales."
    return False, f"Datos {ago(age)}."


def cards(db, pictures: Pictures, visible: list[tuple[str, str]], now: datetime) -> list[dict]:
    """One card a site, the one that needs help first: over its wait target, a printer out of paper or a device
    off line; then a site whose figures are not current; then the rest by name."""
    sites = [site for site, _ in visible]
    bridges = _bridges(db, sites)
    found = []
    for (site, name), live in zip(visible, pictures.of(sites)):
        stale, fresh = _freshness(live, bridges.get(site, (None, None, None)), now)
        card = {"site": site, "name": name, "stale": stale, "freshness": fresh, "waiting": None,
                "longest_min": None, "target_min": None, "over": False, "desks": [], "offline": 0, "unknown": 0,
                "paper": 0, "alarms": [], "more_alarms": 0}
        shown = live.picture
        if shown is not None:
            longest = max((q.longest_min for q in shown.queues if q.longest_min is not None), default=None)
            desks = {state: sum(d.status == state for d in shown.desks) for state in _DESKS}
            card.update(
                waiting=sum(q.normal + q.preferential for q in shown.queues), longest_min=longest,
                target_min=shown.target_min, over=longest is not None and longest > shown.target_min,
                desks=[f"{n} {plural(n, *_DESKS[state])}" for state, n in desks.items() if n],
                offline=sum(d.state == "offline" for d in shown.devices),
                unknown=sum(d.state == "unknown" for d in shown.devices),
                paper=sum(d.printer in ("out", "low") for d in shown.devices),
                alarms=[a.text for a in shown.alarms][:CARD_ALARMS],
                more_alarms=max(0, len(shown.alarms) - CARD_ALARMS))
        card["help"] = card["over"] or card["offline"] > 0 or card["paper"] > 0
        ratio = (card["longest_min"] or 0) / (card["target_min"] or 1)
        card["rank"] = (0 if card["help"] else 1 if stale else 2, -ratio, name)
        found.append(card)
    found.sort(key=lambda c: c["rank"])
    for card in found:
        del card["rank"]
    return found


def site_view(db, pictures: Pictures, site: str, name: str, now: datetime) -> dict:
    live = pictures.of([site])[0]
    stale, fresh = _freshness(live, _bridges(db, [site]).get(site, (None, None, None)), now)
    shown = live.picture
    return {"site": site, "name": name, "stale": stale, "freshness": fresh, "picture": shown,
            "desk_names": _DESK, "printer_names": PRINTER_NAMES,
            "calls": [] if shown is None else [
                {"number": c.number, "desk": c.desk_name, "service": c.service_name,
                 "at": clock(datetime.fromisoformat(c.at).astimezone(now.tzinfo))} for c in shown.calls]}


def devices(db, pictures: Pictures, visible: list[tuple[str, str]], now: datetime) -> list[dict]:
    """Every device of every site, those that need a technician first: off line, printer out or off, a clock
    off by more than MAX_SKEW_S, a site whose figures are not current."""
    sites = [site for site, _ in visible]
    bridges = _bridges(db, sites)
    found = []
    for (site, name), live in zip(visible, pictures.of(sites)):
        bridge = bridges.get(site, (None, None, None))
        stale, fresh = _freshness(live, bridge, now)
        if live.picture is None:
            found.append({"site": name, "device": "—", "role": "Sede", "state": "Sin datos", "problems": [fresh],
                          "heard": "—", "software": bridge[2] or "—", "site_file": "—", "skew": "—", "printer": "—",
                          "needs": True})
            continue
        for device in live.picture.devices:
            problems = []
            if device.state != "online":
                problems.append("Sin conexión" if device.state == "offline" else "Sin reporte de estado")
            if device.printer in ("out", "offline", "low"):
                problems.append(f"Impresora: {PRINTER_NAMES[device.printer].lower()}")
            if device.skew_s is not None and abs(device.skew_s) > MAX_SKEW_S:
                problems.append(f"Reloj {'adelantado' if device.skew_s > 0 else 'atrasado'} {abs(device.skew_s)} s")
            if stale:
                problems.append(fresh)
            heard = "—" if device.heard_at is None else ago((now - datetime.fromisoformat(device.heard_at))
                                                             .total_seconds())
            found.append({
                "site": name, "device": device.device, "role": device.role, "state": device.state,
                "problems": problems, "heard": heard,
                "software": device.software or (bridge[2] if device.device == "hub" else None) or "—",
                "site_file": device.site_file or "—",
                "skew": "—" if device.skew_s is None else f"{device.skew_s:+d} s",
                "printer": PRINTER_NAMES.get(device.printer, "—") if device.printer else "—",
                "needs": bool(problems) and problems != [fresh]})
    found.sort(key=lambda d: (not d["needs"], not d["problems"], d["site"], d["device"]))
    return found

