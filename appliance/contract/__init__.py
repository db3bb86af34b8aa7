"""The MQTT contract: every topic and payload that crosses the broker, in one place.

Devices and the hub import this package and nothing else to talk to each other, so a change to the wire
format is a change here (and a new schema version). docs/protocol.md describes the same for technicians.

Every payload is a JSON object with ``v`` (schema version), ``type``, ``id`` (unique per fact, so that a
replay is recognised) and ``at`` (ISO 8601 with offset, the sender's clock). Facts are delivered at least
once (QoS 1) and applied idempotently by ``id``; what a rebooted screen or desk must show is retained.
"""
from appliance.contract.codec import MAX_PAYLOAD_BYTES, TYPES, Refusals, decode, expect
from appliance.contract.fields import (APPOINTMENT, DEVICE, EVENT_ID, FIRST_YEAR, LAST_YEAR, MAX_ALARMS, MAX_CALLS,
                                       MAX_COUNT, MAX_DEPTH, MAX_IDS, MAX_SERVICES, NUMBER, PHONE, PUBLIC_CODE,
                                       REFUSAL_CHARS, SERVICE, SIGN_IN_CODE, SIGN_IN_DIGITS, TEXT_LIMITS, TICKET_TURN,
                                       TURN, ContractError, check_text, loggable, printable, shown)
from appliance.contract.messages import (ACTIONS, BOOKING_ACTIONS, CENTRAL_ACTIONS, CENTRAL_ORDER_S, CENTRAL_SOURCE,
                                         COMMAND_FIELDS, CONTACT_FIELDS, DESK_STATUS_NAMES,
                                         DESK_STATUSES, MANUAL_OUTCOMES,
                                         PREFERENTIAL_CATEGORIES, PRINTER_STATES, REFUSALS, SCHEMA_VERSION,
                                         Alarm, Alarms, Applied, AppointmentSlip, Board, Call, CheckIn,
                                         CheckInAnswer, Command, DeskRequest, DeskState,
                                         DeskStatus, Heartbeat, Message, PrinterStatus, Rating, Record, Serving,
                                         TicketIssued, TicketVoid, Waiting, new_id)
from appliance.contract.positions import (MAX_POSITIONS, POSITION_STATES, POSITIONS_ALL, SHARDS, Position,
                                          Positions, parse_positions_topic, positions_topic, shard_of)
from appliance.contract.topics import (ALARMS_TOPIC, BOARD_TOPIC, CHECK_INS_ALL, COMMAND_TOPIC, OFFLINE, ONLINE,
                                       RATINGS_ALL, REQUESTS_ALL, ROOT, TICKETS_ALL, applied_topic,
                                       check_in_answer_topic, check_in_topic, desk_device, desk_state_topic,
                                       heartbeat_topic, is_online, parse_topic, printer_topic, rating_topic,
                                       request_topic, slip_topic, status_topic, ticket_topic)

__all__ = ["ACTIONS", "CENTRAL_ACTIONS", "CENTRAL_ORDER_S", "CENTRAL_SOURCE", "Alarm", "Alarms", "ALARMS_TOPIC", "Applied", "applied_topic", "APPOINTMENT", "AppointmentSlip",
           "Board", "BOARD_TOPIC", "BOOKING_ACTIONS", "Call", "check_in_answer_topic", "check_in_topic",
           "CHECK_INS_ALL", "check_text", "CheckIn", "CheckInAnswer", "Command", "COMMAND_FIELDS", "COMMAND_TOPIC",
           "CONTACT_FIELDS", "ContractError", "decode", "desk_device", "desk_state_topic", "DESK_STATUS_NAMES",
           "DESK_STATUSES", "DeskRequest", "DeskState", "DeskStatus", "DEVICE", "EVENT_ID", "expect", "FIRST_YEAR",
           "Heartbeat", "heartbeat_topic", "is_online", "LAST_YEAR", "loggable", "MANUAL_OUTCOMES", "MAX_ALARMS",
           "MAX_CALLS", "MAX_COUNT", "MAX_DEPTH", "MAX_IDS", "MAX_PAYLOAD_BYTES", "MAX_POSITIONS", "MAX_SERVICES",
           "Message", "new_id", "NUMBER", "OFFLINE", "ONLINE", "parse_topic", "PHONE", "Position", "POSITION_STATES",
           "parse_positions_topic", "Positions", "POSITIONS_ALL", "positions_topic", "PREFERENTIAL_CATEGORIES",
           "printable", "PRINTER_STATES", "printer_topic", "PrinterStatus", "PUBLIC_CODE", "Rating", "rating_topic",
           "RATINGS_ALL", "Record",
           "REFUSAL_CHARS", "Refusals", "REFUSALS", "request_topic", "REQUESTS_ALL", "ROOT", "SCHEMA_VERSION",
           "SERVICE", "Serving", "shard_of", "SHARDS", "shown", "SIGN_IN_CODE", "SIGN_IN_DIGITS", "slip_topic",
           "status_topic", "TEXT_LIMITS", "ticket_topic", "TICKET_TURN", "TicketIssued", "TICKETS_ALL", "TicketVoid",
           "TURN", "TYPES", "Waiting"]
