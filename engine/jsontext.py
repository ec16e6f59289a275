"""Strict JSON text for every file rackrisk writes (summary.json, stress, capex, life comparison).

NaN and ±inf are not JSON: they are written as ``null``. NumPy scalars and arrays become Python
numbers and lists first, so a float32 NaN is caught like a float64 one; ``allow_nan=False`` makes
any value that slipped through an error instead of an invalid file.
"""

from __future__ import annotations

import json
import math
from pathlib import PurePath

import numpy as np


def to_plain(obj):
    """``obj`` with NumPy values turned into Python ones and non-finite floats into None."""
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_plain(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, PurePath):
        return str(obj)
    return obj


def json_text(obj) -> str:
    """Indented strict JSON of ``obj`` with a trailing newline."""
    return json.dumps(to_plain(obj), indent=2, allow_nan=False) + "\n"
