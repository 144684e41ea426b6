import json

import pytest

from eei_core.internal.hints import Hint, hints_to_json, parse_color, parse_hints, rasterize_hints
from eei_core.shared.errors import EEIInputError


def test_parse_all_colour_forms():
    assert parse_color("#ff0000") == (1.0, 0.0, 0.0)
    assert parse_color("#0f0") == (0.0, 1.0, 0.0)
    assert parse_color("rgb(0, 0, 255)") == (0.0, 0.0, 1.0)
    assert parse_color([255, 128, 0]) == pytest.approx((1.0, 128 / 255, 0.0))
    assert parse_color([0.5, 0.25, 1.0]) == (0.5, 0.25, 1.0)


def test_round_trip_through_json():
    hints = [Hint(0.25, 0.75, (1.0, 0.0, 0.0), 4.0), Hint(0.5, 0.5, (0.0, 0.0, 1.0))]
    back = parse_hints(hints_to_json(hints))
    assert back == hints


def test_points_object_and_default_radius():
    hints = parse_hints({"points": [{"x": 0.1, "y": 0.2, "color": "#000000"}]}, default_radius=7)
    assert hints == [Hint(0.1, 0.2, (0.0, 0.0, 0.0), 7.0)]
    assert parse_hints("") == [] and parse_hints(None) == [] and parse_hints("[]") == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("[{", "not valid JSON"),
        ('{"x": 1}', "must be a list of points"),
        ('[{"x": 1.5, "y": 0.5, "color": "#fff"}]', r"hint 0: 'x' = 1.5 is outside 0..1"),
        ('[{"x": 0.5, "y": -0.1, "color": "#fff"}]', r"'y' = -0.1 is outside 0..1"),
        ('[{"x": "a", "y": 0.5, "color": "#fff"}]', "'x' must be a number"),
        ('[{"x": 0.5, "y": 0.5}]', "missing 'color'"),
        ('[{"x": 0.5, "y": 0.5, "color": "reddish"}]', "'reddish' is not a colour"),
        ('[{"x": 0.5, "y": 0.5, "color": [300, 0, 0]}]', "must be 0..255"),
        ('[{"x": 0.5, "y": 0.5, "color": "#fff", "radius": -2}]', "'radius' must be a finite number >= 0"),
        ('[3]', "hint 0: expected an object"),
    ],
)
def test_bad_hints_say_what_is_wrong(text, message):
    with pytest.raises(EEIInputError, match=message):
        parse_hints(text)


def test_rasterize_places_disc_with_colour():
    color, weight = rasterize_hints([Hint(0.5, 0.5, (1.0, 0.5, 0.0), 2.0)], 20, 40)
    assert color.shape == (1, 3, 20, 40) and weight.shape == (1, 1, 20, 40)
    assert weight[0, 0, 10, 20] == 1.0 and weight[0, 0, 0, 0] == 0.0
    assert color[0, :, 10, 20].tolist() == [1.0, 0.5, 0.0]
    assert 9 < float((weight > 0.5).sum()) < 25  # about pi * 2.5^2


def test_rasterize_keeps_tiny_hints_at_coarse_levels():
    _, weight = rasterize_hints([Hint(0.99, 0.01, (1, 1, 1), 1.0)], 3, 3, scale=0.05)
    assert weight[0, 0, 0, 2] == 1.0


def test_json_is_plain():
    assert json.loads(hints_to_json([Hint(0, 1, (0, 0, 0), 1)])) == [{"x": 0, "y": 1, "color": "#000000", "radius": 1}]
