"""The MQTT contract: every topic and payload that crosses the broker, in one place.

Devices and the hub import this package and nothing else to talk to each other, so a change to the wire
format is a change here (and a new schema version). docs/protocol.md describes the same for technicians.

Every payload is a JSON object with ``v`` (schema version), ``type``, ``id`` (unique per fact, so that a
replay is recognised) and ``at`` (ISO 8601 with offset, the sender's clock). Facts are delivered at least
once (QoS 1) and applied idempotently by ``id``; what a rebooted screen or desk must show is retained.
"""
from appliance.contract.codec import MAX_PAYLOAD_BYTES, TYPES, Refusals, decode, expect
from appliance.contract.fields import (APPOINTMENT, DEVICE, EVENT_ID, FIRST_YEAR, LAST_YEAR, MAX_ALARMS, MAX_CALLS,
                                       MAX_COUNT, MAX_DEPTH, MAX_IDS, MAX_SERVICES, NUMBER, PHONE, REFUSAL_CHARS,
                                       SERVICE, SIGN_IN_CODE, SIGN_IN_DIGITS, TEXT_LIMITS,
                                       TICKET_TURN, TURN, ContractError, check_text, loggable, printable, shown)
from appliance.contract.messages import (ACTIONS, BOOKING_ACTIONS, COMMAND_FIELDS, CONTACT_FIELDS, DESK_STATUS_NAMES,
                                         DESK_STATUSES, MANUAL_OUTCOMES,
                                         PREFERENTIAL_CATEGORIES, PRINTER_STATES, REFUSALS, SCHEMA_VERSION,
                                         Alarm, Alarms, Applied, AppointmentSlip, Board, Call, CheckIn,
                                         CheckInAnswer, Command, DeskRequest, DeskState,
                                         DeskStatus, Heartbeat, Message, PrinterStatus, Rating, Record, Serving,
                                         TicketIssued, TicketVoid, Waiting, new_id)
from appliance.contract.topics import (ALARMS_TOPIC, BOARD_TOPIC, CHECK_INS_ALL, COMMAND_TOPIC, OFFLINE, ONLINE,
                                       RATINGS_ALL, REQUESTS_ALL, ROOT, TICKETS_ALL, applied_topic,
                                       check_in_answer_topic, check_in_topic, desk_device, desk_state_topic,
                                       heartbeat_topic, is_online, parse_topic, printer_topic, rating_topic,
                                       request_topic, slip_topic, status_topic, ticket_topic)

__all__ = ["ACTIONS", "ALARMS_TOPIC", "APPOINTMENT", "Alarm", "Alarms", "Applied", "AppointmentSlip", "BOARD_TOPIC",
           "BOOKING_ACTIONS", "Board", "CHECK_INS_ALL", "CONTACT_FIELDS", "CheckIn", "CheckInAnswer", "COMMAND_FIELDS",
           "PHONE", "check_in_answer_topic", "check_in_topic", "slip_topic",
           "COMMAND_TOPIC", "Call", "Command", "ContractError", "DESK_STATUS_NAMES", "DESK_STATUSES", "DEVICE",
           "DeskRequest", "DeskState", "DeskStatus", "EVENT_ID", "FIRST_YEAR", "Heartbeat", "LAST_YEAR",
           "MANUAL_OUTCOMES", "MAX_ALARMS", "MAX_CALLS", "MAX_COUNT", "MAX_DEPTH", "MAX_IDS", "MAX_PAYLOAD_BYTES",
           "MAX_SERVICES", "Message", "NUMBER", "OFFLINE", "ONLINE", "PREFERENTIAL_CATEGORIES", "PRINTER_STATES",
           "PrinterStatus", "RATINGS_ALL", "REFUSAL_CHARS", "REFUSALS", "REQUESTS_ALL", "ROOT", "Rating", "Record",
           "Refusals", "SCHEMA_VERSION", "SERVICE", "SIGN_IN_CODE", "SIGN_IN_DIGITS", "Serving", "TEXT_LIMITS",
           "TICKETS_ALL", "TICKET_TURN", "TURN", "TYPES", "TicketIssued", "TicketVoid", "Waiting", "applied_topic",
           "check_text", "decode", "desk_device", "desk_state_topic", "expect", "heartbeat_topic", "is_online",
           "loggable", "new_id", "parse_topic", "printable", "printer_topic", "rating_topic", "request_topic",
           "shown", "status_topic", "ticket_topic"]
