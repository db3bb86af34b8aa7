"""The coordinators' orders as the page takes them: a form's fields made into a contract.Command (refused with
the Spanish sentence that says which field is wrong), and the sentence that tells what the hub did with one."""
from __future__ import annotations

import re
from datetime import date, datetime, time

from appliance import contract
from appliance.core.spanish import clock, long_date
from appliance.site import SiteConfig
from appliance.web.queries import BadRequest

COMMAND_EXPIRY_S = 30   # an order the hub has not taken by then is dropped by the broker, never carried out late
STATUS_VERBS = {"open": "Abrir", "paused": "Pausar", "closed": "Cerrar"}
OUTCOME_NAMES = {"attended": "atendido", "no_show": "no se presentó"}
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
APPOINTMENT_ACTIONS = ("book", "book_first", "cancel_booking", "move_booking", "check_in")
_NAME_MARKS = set(" .'-")    # besides letters: "María-José O'Neill Jr."
_PHONE_MARKS = str.maketrans("", "", " -().")


def command_from_form(form: dict[str, list[str]], config: SiteConfig, coordinator: str, now: datetime,
                      command_id: str | None = None) -> contract.Command:
    """The order a form of the Módulos or Contingencia page asks for."""
    def field(name: str) -> str:
        return (form.get(name) or [""])[0].strip()

    action = field("accion")
    if action not in contract.COMMAND_FIELDS:
        raise BadRequest("La orden pedida no existe.")
    values: dict = {}
    needed = contract.COMMAND_FIELDS[action]
    if "desk" in needed:
        values["desk"] = _desk(field("modulo"), config)
    if "status" in needed:
        status = field("estado")
        if status not in contract.DESK_STATUSES:
            raise BadRequest("Elija si el módulo queda abierto, en pausa o cerrado.")
        values["status"] = status
    if "advisor" in needed:
        values["advisor"] = _name(field("asesor"))
    if "number" in needed:
        values["number"] = _number(field("numero"))
    if action == "manual":
        values.update(_manual(field, config))
    if action in APPOINTMENT_ACTIONS:
        values.update(_appointment(action, field, config))
    return contract.Command(id=command_id or contract.new_id(), at=now.isoformat(timespec="milliseconds"),
                            source="hub-web", action=action, coordinator=coordinator, **values)


def _desk(text: str, config: SiteConfig) -> int:
    if not text.isdigit() or int(text) not in config.desks:
        raise BadRequest("Elija uno de los módulos del sitio.")
    return int(text)


def _name(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise BadRequest("Escriba el nombre del asesor.")
    if len(text) > contract.TEXT_LIMITS["advisor"] or not contract.printable(text) == text:
        raise BadRequest(f"El nombre del asesor debe tener hasta {contract.TEXT_LIMITS['advisor']} letras, sin "
                         "caracteres de control.")
    return text


def _number(text: str) -> str:
    number = text.upper()
    if not contract.NUMBER.fullmatch(number):
        raise BadRequest(f"El número «{text[:12]}» no es un número de turno: escríbalo como R-004 (letra, guion y "
                         "tres a seis cifras).")
    return number


def _manual(field, config: SiteConfig) -> dict:
    service = field("servicio")
    if service not in config.services:
        raise BadRequest("Elija uno de los servicios del sitio.")
    outcome = field("resultado")
    if outcome not in contract.MANUAL_OUTCOMES:
        raise BadRequest("Elija si el ciudadano fue atendido o no se presentó.")
    try:
        day = date.fromisoformat(field("fecha"))
    except ValueError:
        raise BadRequest("Escriba la fecha de la contingencia como AAAA-MM-DD.") from None
    times = []
    for key, label in (("llegada", "de llegada"), ("llamado", "del llamado"), ("fin", "del fin de la atención")):
        match = _CLOCK.fullmatch(field(key))
        if match is None:
            raise BadRequest(f"Escriba la hora {label} como HH:MM, por ejemplo 10:05.")
        times.append(datetime.combine(day, time(int(match.group(1)), int(match.group(2))), config.timezone))
    if not times[0] <= times[1] <= times[2]:
        raise BadRequest("Las horas deben seguirse: llegada, llamado y fin de la atención.")
    return {"service": service, "outcome": outcome, "issued_at": times[0].isoformat(),
            "called_at": times[1].isoformat(), "closed_at": times[2].isoformat()}


def _appointment(action: str, field, config: SiteConfig) -> dict:
    """An appointment order's fields; the hub decides whether the slot is free and open (hub/service.py)."""
    if config.appointments is None:
        raise BadRequest("Este sitio no da citas: su archivo de sitio no tiene [appointments].")
    values: dict = {}
    if action in contract.BOOKING_ACTIONS:
        values["service"] = field("servicio")
        if values["service"] not in config.appointments.capacity:
            raise BadRequest("Elija uno de los servicios que dan citas.")
    else:
        values["appointment"] = field("cita").upper()
        if not contract.APPOINTMENT.fullmatch(values["appointment"]):
            raise BadRequest("Esa cita no existe en este sitio.")
    if action in ("book", "move_booking"):
        values["slot"] = _slot(field("fecha"), field("hora"), config)
    if action in contract.BOOKING_ACTIONS:
        values.update(_contact(field))
    return values


def _slot(day_text: str, clock_text: str, config: SiteConfig) -> str:
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise BadRequest("Escriba el día de la cita como AAAA-MM-DD.") from None
    match = _CLOCK.fullmatch(clock_text)
    if match is None:
        raise BadRequest("Elija la hora de la cita.")
    return datetime.combine(day, time(int(match.group(1)), int(match.group(2))), config.timezone).isoformat()


def _contact(field) -> dict:
    """The citizen's name and phone, only with their consent and never of a minor (Ley 1581 de 2012)."""
    name, phone = " ".join(field("nombre").split()), field("telefono").translate(_PHONE_MARKS)
    if not (name or phone):
        return {}
    if field("consentimiento") != "si":
        raise BadRequest("Sin la autorización del ciudadano (Ley 1581 de 2012) no se anotan su nombre ni su "
                         "teléfono: marque la autorización o deje los dos en blanco.")
    if field("mayor") != "si":
        raise BadRequest("De un menor de edad no se toman datos personales: agende la cita sin nombre ni teléfono.")
    contact: dict = {"consent": True}
    if name:
        if len(name) > contract.TEXT_LIMITS["name"] or not all(c.isalpha() or c in _NAME_MARKS for c in name):
            raise BadRequest(f"El nombre solo puede tener letras, espacios, puntos, guiones y apóstrofos, hasta "
                             f"{contract.TEXT_LIMITS['name']} caracteres.")
        contact["name"] = name
    if phone:
        phone = phone.removeprefix("+57")
        if not contract.PHONE.fullmatch(phone):
            raise BadRequest("El teléfono debe tener 10 cifras (celular, o fijo con su indicativo) o 7 (fijo local).")
        contact["phone"] = phone
    return contact


def appointment_ref(code: str | None) -> str:
    """How the page names an appointment: its code in groups of four, 'R7KQ 2M4P QXZ3 ABCD'."""
    code = code or ""
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def _when(slot: str | None, config: SiteConfig) -> str:
    """'el miércoles 25 de noviembre de 2026 a las 10:30'."""
    if not slot:
        return ""
    moment = datetime.fromisoformat(slot).astimezone(config.timezone)
    return f"el {long_date(moment.date())} a las {clock(moment)}"


def describe(record: dict, config: SiteConfig, *, done: bool) -> str:
    """An order in a sentence: what it asked ('Pausar Módulo 2') or, `done`, what it did ('Módulo 2 queda en
    pausa.')."""
    order = record["order"]
    desk = config.desks[order["desk"]].name if order.get("desk") in config.desks else ""
    number, status = order.get("number"), order.get("status")
    service = config.services[order["service"]].name if order.get("service") in config.services else ""
    cita = appointment_ref(order.get("appointment"))
    manual = f"{number} del {str(order.get('issued_at'))[:10]} ({OUTCOME_NAMES.get(order.get('outcome'), '')})"
    sentences = {
        "desk_status": (f"{STATUS_VERBS.get(status, '')} {desk}",
                        f"{desk} queda {contract.DESK_STATUS_NAMES.get(status, '')}."),
        "advisor": (f"Asesor de {desk}: {order.get('advisor')}", f"{order.get('advisor')} atiende desde ahora en "
                                                                  f"{desk}."),
        "call": (f"Llamar el turno {number} a {desk}", f"El turno {number} fue llamado a {desk}."),
        "reinstate": (f"Reincorporar el turno {number}",
                      f"El turno {number} vuelve a la fila, en el lugar que tenía."),
        "undo_next": (f"Deshacer el último SIGUIENTE de {desk}", f"Se deshizo el último SIGUIENTE de {desk}."),
        "manual": (f"Registrar la atención manual {manual}", f"Atención manual {manual} registrada."),
        "book": (f"Agendar una cita de {service} {_when(order.get('slot'), config)}",
                 f"Cita de {service} agendada {_when(record.get('slot'), config)}."),
        "book_first": (f"Agendar una cita prioritaria de {service}",
                       f"Cita prioritaria de {service} agendada {_when(record.get('slot'), config)}."),
        "cancel_booking": (f"Cancelar la cita {cita}", f"La cita {cita} quedó cancelada."),
        "move_booking": (f"Mover la cita {cita} al {_when(order.get('slot'), config)[3:]}",
                         f"La cita {cita} quedó para el {_when(order.get('slot'), config)[3:]}."),
        "check_in": (f"Registrar la llegada de la cita {cita}",
                     f"Llegada de la cita {cita} registrada: su turno es el {record.get('number')}."),
    }
    return sentences[record["action"]][done]
