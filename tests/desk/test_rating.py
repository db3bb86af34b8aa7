"""The rating pad's window: which turn a press rates, and when a press counts for nothing."""
import json

from gpiozero.pins.mock import MockFactory

from appliance import site as site_config
from appliance.desk.rating import RatingPad
from appliance.desk.unit import CODE_S
from appliance.drivers.gpio import press
from tests.desk.test_desk import desk_unit
from tests.harness.roles import SettableClock


def pad() -> RatingPad:
    return RatingPad(grace_s=60, min_attention_s=30)


def test_nothing_is_rated_before_a_turn_is_called():
    assert pad().press(now=0) is None


def test_a_turn_just_called_is_rated_only_once_its_attention_has_lasted_the_minimum():
    rating = pad()
    rating.serve("t1", now=0, previous_attended=True)
    assert rating.press(now=29) is None
    assert rating.press(now=30) == "t1"


def test_the_first_press_counts_and_later_ones_for_the_same_turn_do_not():
    rating = pad()
    rating.serve("t1", now=0, previous_attended=True)
    assert rating.press(now=35) == "t1"
    assert rating.press(now=36) is None


def second_turn_called_at_100() -> RatingPad:
    rating = pad()
    rating.serve("t1", now=0, previous_attended=True)
    rating.serve("t2", now=100, previous_attended=True)
    return rating


def test_during_the_grace_period_the_pad_rates_the_citizen_who_leaves_and_nobody_else():
    rating = second_turn_called_at_100()
    assert rating.press(now=130) == "t1"
    # A second press of the citizen who leaves: t2's attention has lasted 31 s, but it is not t2's rating.
    assert rating.press(now=131) is None
    assert rating.target(now=159) is None


def test_after_the_grace_period_the_pad_rates_the_turn_being_served():
    assert second_turn_called_at_100().press(now=161) == "t2"


def test_a_no_show_is_never_rated():
    rating = pad()
    rating.serve("t1", now=0, previous_attended=True)
    rating.serve(None, now=10, previous_attended=False)
    assert rating.press(now=11) is None


def test_a_press_rates_what_the_pad_offered_when_it_was_pressed_however_late_the_desk_takes_it(tmp_path):
    """A busy Pi: the citizen who leaves presses within the grace; the desk's loop takes the press only after the
    grace has run out. It still rates the citizen who left, never the one now served."""
    config = site_config.load(site_config.EXAMPLE)
    pins, clock = MockFactory(), SettableClock(1000.0)
    desk = desk_unit(config, 1, tmp_path, pins, monotonic=clock)
    desk.pad = second_turn_called_at_100()           # t1 left at 100, within its grace until 160; t2 served
    clock.moment = 150
    press(pins, config.desk_pins.rating[4])           # a 5, pressed at 150
    clock.moment = 200                               # the loop comes round only now
    desk.step(timeout=0)
    (rating,) = [json.loads(item.payload) for item in desk.link.outbox.pending()]
    assert (rating["turn_id"], rating["value"]) == ("t1", 5)
    desk.stop()


def test_on_a_closed_desk_the_pad_types_an_advisors_code_unless_the_citizen_who_left_may_still_rate(tmp_path):
    config = site_config.load(site_config.EXAMPLE)
    pins, clock = MockFactory(), SettableClock(1000.0)
    desk = desk_unit(config, 1, tmp_path, pins, monotonic=clock)
    desk.status, desk.pad = "closed", second_turn_called_at_100()
    desk.pad.serve(None, 120, previous_attended=True)    # closed at 120: t2 may rate until 180
    for value in (5, 2, 1, 3):
        clock.moment = 130
        press(pins, config.desk_pins.rating[value - 1])
        desk.step(timeout=0)
    clock.moment = 200                                   # the grace is over: the next four presses are a code
    for value in (5, 2, 1):
        press(pins, config.desk_pins.rating[value - 1])
        desk.step(timeout=0)
    clock.moment += CODE_S + 1                           # too slow: the code starts again
    for value in (5, 2, 1, 3):
        press(pins, config.desk_pins.rating[value - 1])
        desk.step(timeout=0)
    sent = [json.loads(item.payload) for item in desk.link.outbox.pending()]
    assert [(m["type"], m.get("turn_id"), m.get("value")) for m in sent] == [("rating", "t2", 5)]
    assert (desk.pending.action, desk.pending.code) == ("sign_in", "5213")
    desk.stop()
