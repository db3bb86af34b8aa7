"""The device outbox keeps what it must send across restarts, in order, until the hub has recorded it."""
from appliance.core.outbox import Outbox


def test_pending_events_survive_a_restart_in_order(tmp_path):
    box = Outbox(tmp_path)
    first = box.put("a/b", "Educación".encode(), "e1")
    box.put("a/c", b"{}", "e2")
    reopened = Outbox(tmp_path)
    items = reopened.pending()
    assert [(i.topic, i.payload, i.id) for i in items] == [("a/b", "Educación".encode(), "e1"), ("a/c", b"{}", "e2")]
    reopened.done(items[0])
    assert [i.topic for i in Outbox(tmp_path).pending()] == ["a/c"]
    assert reopened.put("a/d", b"1", "e3").path.name > first.path.name


def test_an_unreadable_file_is_set_aside_not_dropped(tmp_path):
    box = Outbox(tmp_path)
    box.put("a/b", b"{}", "e1")
    (tmp_path / "000000000099.json").write_text("{torn")
    assert [i.topic for i in box.pending()] == ["a/b"]
    assert (tmp_path / "000000000099.bad").exists()
