"""The coordinators' orders as the page takes them: a form's fields made into a contract.Command (refused with
the Spanish sentence that says which field is wrong), and the sentence that tells what the hub did with one."""
from __future__ import annotations

import re
from datetime import date, datetime, time

from appliance import contract
from appliance.site import SiteConfig
from appliance.web.queries import BadRequest

COMMAND_EXPIRY_S = 30   # an order the hub has not taken by then is dropped by the broker, never carried out late
STATUS_VERBS = {"open": "Abrir", "paused": "Pausar", "closed": "Cerrar"}
OUTCOME_NAMES = {"attended": "atendido", "no_show": "no se presentó"}
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


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


def describe(record: dict, config: SiteConfig, *, done: bool) -> str:
    """An order in a sentence: what it asked ('Pausar Módulo 2') or, `done`, what it did ('Módulo 2 queda en
    pausa.')."""
    order = record["order"]
    desk = config.desks[order["desk"]].name if order.get("desk") in config.desks else ""
    number, status = order.get("number"), order.get("status")
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
    }
    return sentences[record["action"]][done]
