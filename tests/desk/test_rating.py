"""The rating pad's window: which turn a press rates, and when a press counts for nothing."""
from appliance.desk.rating import RatingPad


def test_nothing_is_rated_before_a_turn_is_called():
    pad = RatingPad(grace_s=60)
    assert pad.press(now=0) is None


def test_the_first_press_counts_and_later_ones_for_the_same_turn_do_not():
    pad = RatingPad(grace_s=60)
    pad.serve("t1", now=0, previous_attended=True)
    assert pad.press(now=5) == "t1"
    assert pad.press(now=6) is None


def test_the_citizen_who_leaves_can_still_rate_during_the_grace_period():
    pad = RatingPad(grace_s=60)
    pad.serve("t1", now=0, previous_attended=True)
    pad.serve("t2", now=100, previous_attended=True)
    assert pad.target(now=130) == "t1"
    assert pad.press(now=130) == "t1"
    assert pad.target(now=131) == "t2"


def test_after_the_grace_period_the_pad_rates_the_turn_being_served():
    pad = RatingPad(grace_s=60)
    pad.serve("t1", now=0, previous_attended=True)
    pad.serve("t2", now=100, previous_attended=True)
    assert pad.press(now=161) == "t2"


def test_a_no_show_is_never_rated():
    pad = RatingPad(grace_s=60)
    pad.serve("t1", now=0, previous_attended=True)
    pad.serve(None, now=10, previous_attended=False)
    assert pad.press(now=11) is None
