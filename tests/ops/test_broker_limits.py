"""The hub's broker bounded against strangers and against a stolen device credential, checked on a real
Mosquitto running the generated files (LocalBroker with `auth=` takes the open-file limit of the hub's systemd
drop-in too): silent connections do not keep a device out, and a flood queued for an absent hub stays within
max_queued_bytes."""
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from appliance import contract
from appliance.ops import broker_files
from tests.harness.hostile import Held
from tests.harness.measure import rss_mb
from tests.harness.roles import wait_until
from tests.ops.test_broker_security import Client, password, secured  # noqa: F401 (a fixture)

SILENT = 1100          # more than the 1,024 open files systemd gives a service by default
FLOOD = 2000           # messages of FLOOD_BYTES from one kiosk's credential while the hub is away
FLOOD_BYTES = 60_000


def test_a_thousand_silent_connections_do_not_keep_a_device_from_connecting(secured):
    config, broker = secured
    before = rss_mb(broker.pid)
    with Held("silent", broker.host, broker.port, SILENT) as silent:
        assert silent.opened == SILENT
        held = rss_mb(broker.pid)
        # A kiosk that rebooted gets on while they are held.
        kiosk = Client(broker, "kiosco-1", password(config, "kiosco-1"))
        assert kiosk.reason.value == 0, kiosk.reason
        assert kiosk.publish(contract.ticket_topic("kiosco-1")) < 0x80
        kiosk.close()
        assert len(list(Path(f"/proc/{broker.pid}/fd").iterdir())) > SILENT      # all of them were taken
    print(f"broker RSS: {before:.1f} MB, {held:.1f} MB with {SILENT} silent connections")


def test_a_flood_for_an_absent_hub_stays_within_the_brokers_queue_limit(secured):
    config, broker = secured
    # The hub's persistent session, as `turnero hub` leaves it when it stops.
    hub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="hub", protocol=mqtt.MQTTv5)
    hub.tls_set(ca_certs=str(broker.ca_file))
    hub.username_pw_set("hub", password(config, "hub"))
    received = []
    hub.on_message = lambda client, userdata, message: received.append(len(message.payload))
    hub.on_connect = lambda client, userdata, flags, reason, props: client.subscribe(contract.TICKETS_ALL, qos=1)
    hub.connect(broker.host, broker.port, clean_start=False, properties=_session_kept())
    hub.loop_start()
    wait_until(lambda: hub.is_connected(), what="the hub's session")
    hub.disconnect()
    hub.loop_stop()
    before = rss_mb(broker.pid)

    kiosk = Client(broker, "kiosco-1", password(config, "kiosco-1"))
    payload = b"x" * FLOOD_BYTES
    infos = [kiosk.client.publish(contract.ticket_topic("kiosco-1"), payload, qos=1) for _ in range(FLOOD)]
    wait_until(lambda: all(info.mid in kiosk.acks for info in infos), timeout=120, what="the flood's PUBACKs")
    kiosk.close()
    flooded = rss_mb(broker.pid)
    # 120 MB were sent; what the broker holds for the hub stops at max_queued_bytes (it grew by 114-166 MB before).
    assert flooded - before < broker_files.MAX_QUEUED_BYTES / 2 ** 20 + 16, (before, flooded)

    hub.connect(broker.host, broker.port, clean_start=False, properties=_session_kept())
    hub.loop_start()
    try:
        wait_until(lambda: hub.is_connected(), what="the hub back")
        kiosk = Client(broker, "kiosco-1", password(config, "kiosco-1"))
        assert kiosk.publish(contract.ticket_topic("kiosco-1"), b"fin") < 0x80     # after whatever was kept
        kiosk.close()
        wait_until(lambda: 3 in received, timeout=60, what="the queued messages, then the last one")
        kept = received.count(FLOOD_BYTES)
        # What fit in max_queued_bytes (and the one that crossed it) came through; the rest was dropped, not held.
        fit = broker_files.MAX_QUEUED_BYTES // FLOOD_BYTES
        assert fit // 2 < kept <= fit + 1
    finally:
        hub.disconnect()
        hub.loop_stop()
    print(f"broker RSS: {before:.1f} MB before, {flooded:.1f} MB after {FLOOD} x {FLOOD_BYTES} B; "
          f"{kept} delivered to the hub")


def _session_kept():
    properties = mqtt.Properties(mqtt.PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    return properties
