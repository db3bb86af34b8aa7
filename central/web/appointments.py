"""The central's "Citas": a coordinator books, moves or cancels a site's appointments from the central, for the
sites they may see. The site's hub stays the authority over its slots and capacity: the order goes to it over
its bridge (contract.CENTRAL_ACTIONS, never a desk's work, never a name or phone), and the answer is the hub's
record of it, shipped back like every record. What the page lists is the site's appointments as the records the
central holds say."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from appliance import contract
from appliance.contract import shipping
from appliance.records.bookings import BOOKING_KINDS, STATUS_NAMES, bookings_of
from appliance.web.queries import BadRequest

DAYS_LISTED = 15            # today and the two weeks a site books ahead by default
ACTIONS = ("book", "book_first", "cancel_booking")     # the form's buttons (CENTRAL_ACTIONS less move_booking)


def order_from_form(sent: dict[str, list[str]], user: str, now: datetime) -> contract.Command:
    """The order a form asks for, checked by the contract; BadRequest with the Spanish reason otherwise."""
    def field(name: str) -> str:
        return (sent.get(name) or [""])[0].strip()[:40]

    action = field("accion")
    if action not in ACTIONS:
        raise BadRequest("Elija qué hacer: agendar una cita, la cita prioritaria de mañana o cancelar una cita.")
    values: dict = {}
    if action in ("book", "book_first"):
        values["service"] = field("servicio")
    if action == "book":
        try:
            slot = datetime.combine(date.fromisoformat(field("dia")), time.fromisoformat(field("hora")), now.tzinfo)
        except ValueError:
            raise BadRequest("Escriba el día (AAAA-MM-DD) y la hora (HH:MM) de la cita.") from None
        values["slot"] = slot.isoformat(timespec="minutes")
    if action == "cancel_booking":
        values["appointment"] = field("cita")
    try:
        return contract.Command.from_dict({
            "id": contract.new_id(), "at": now.isoformat(timespec="seconds"), "source": contract.CENTRAL_SOURCE,
            "action": action, "coordinator": user[:64], **values})
    except contract.ContractError:
        raise BadRequest("La orden no es válida: revise el servicio, el día, la hora o el código de la cita.") from None


def send(link, site: str, command: contract.Command) -> None:
    # The bridge speaks MQTT 3.1.1 (no expiry): the hub refuses an order held back too long (CENTRAL_ORDER_S).
    link.publish(shipping.central_topic(site, shipping.ORDERS), command.to_json())


def answer(db, site: str, command_id: str) -> dict | None:
    """The hub's record of the order, once the central holds it; None until then."""
    found = db.execute("SELECT record FROM records WHERE site = %s AND kind = 'command' AND record->>'id' = %s",
                       (site, command_id[:64])).fetchone()
    return None if found is None else found[0]


def upcoming(db, site: str, today: date) -> list[dict]:
    """The site's appointments of the next DAYS_LISTED days, by time, as the central's records say (only the
    appointment records are read)."""
    by_day: dict[date, list[dict]] = {}
    for day, record in db.execute(
            "SELECT day, record FROM records WHERE site = %s AND day BETWEEN %s AND %s AND kind = ANY(%s) "
            "ORDER BY day, pos", (site, today, today + timedelta(days=DAYS_LISTED - 1), list(BOOKING_KINDS))):
        by_day.setdefault(day, []).append(record)
    db.rollback()
    listed = []
    for day, records in sorted(by_day.items()):
        for booking in bookings_of(records).live():
            slot = datetime.fromisoformat(booking.slot)
            listed.append({"code": booking.appointment, "day": day.isoformat(), "time": f"{slot:%H:%M}",
                           "service": booking.service, "status": STATUS_NAMES[booking.status],
                           "open": booking.status == "booked"})
    return listed
