"""engine.jsontext: every JSON file rackrisk writes is strict JSON (no NaN/Infinity tokens)."""

import json
import math

import numpy as np
import pytest

from engine.jsontext import json_text, to_plain


def test_non_finite_values_of_every_float_type_become_null() -> None:
    # float32 NaN is not a Python float: the old summary writer passed it through as the token NaN.
    doc = {"a": float("nan"), "b": np.float32("nan"), "c": np.float64("inf"), "d": [1.5, -math.inf],
           "e": np.array([np.nan, 2.0], dtype=np.float32), "f": (np.int64(3), np.bool_(True))}
    text = json_text(doc)
    assert "NaN" not in text and "Infinity" not in text
    back = json.loads(text)
    assert back == {"a": None, "b": None, "c": None, "d": [1.5, None], "e": [None, 2.0], "f": [3, True]}


def test_unknown_objects_are_an_error_not_a_string() -> None:
    # A value that is not data (here an object) must fail loudly rather than be written as its repr.
    with pytest.raises(TypeError):
        json_text({"x": object()})


def test_to_plain_keeps_finite_values_exactly() -> None:
    assert to_plain({"x": np.float64(0.1), "y": 7}) == {"x": 0.1, "y": 7}
