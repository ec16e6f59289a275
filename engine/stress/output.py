"""JSON text for the stress, reverse-stress and sensitivity folders (strict: NaN -> null); atomic folders: engine.outdir."""

from __future__ import annotations

import json

import numpy as np



def _default(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def _clean(obj):
    """NaN/inf -> None (strict JSON)."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (float, np.floating)) and not np.isfinite(obj):
        return None
    return obj


def json_text(obj) -> str:
    return json.dumps(_clean(obj), indent=2, default=_default) + "\n"
