"""A chunk's per-path outputs packed into one (K, B) array on the device, unpacked as views on the host.

A gathered run copies every per-path result and input of every chunk to the host; packed, that is
one device-to-host transfer a chunk (one per device's shard) instead of one per array. The packed
array is (K, B): K rows (every key's values flattened, keys in sorted order) by B paths, so each
key's values are contiguous rows and the host copies a key with one contiguous copy. Packing
stacks values along a new axis and unpacking takes row slices: no value changes, and every
array must have the same dtype. Why this layout (the measurements): docs/decisions/0012.

``Layout.of(tree)`` records, for a dict of (B, ...) arrays of one dtype, each key's trailing shape
and its rows; ``layout.pack(tree)`` (JAX, inside the jitted chunk) -> (K, B);
``layout.unpack(array)`` (host) -> dict of (B, ...) arrays (views where NumPy can: every key with
one value per path).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layout:
    """Rows of each key in the packed (K, B) array: key -> (trailing shape, first row, width)."""

    columns: tuple[tuple[str, tuple[int, ...], int, int], ...]
    width: int

    @classmethod
    def of(cls, shapes: dict) -> "Layout":
        """From a dict of arrays or ShapeDtypeStructs with a leading path axis (keys in sorted order)."""
        cols, off = [], 0
        for k in sorted(shapes):
            tail = tuple(int(n) for n in shapes[k].shape[1:])
            w = int(np.prod(tail, dtype=np.int64))
            cols.append((k, tail, off, w))
            off += w
        return cls(tuple(cols), off)

    def pack(self, tree: dict):
        """(K, B) array of the values of ``tree`` (JAX arrays of one dtype), rows in layout order."""
        import jax.numpy as jnp

        B = next(iter(tree.values())).shape[0]
        return jnp.concatenate([tree[k].reshape(B, w).T for k, _, _, w in self.columns], axis=0)

    def host_shapes(self, dtype) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """Key -> (trailing shape, dtype) of the unpacked values (``PathArrays.reserve``'s argument)."""
        return {k: (tail, np.dtype(dtype)) for k, tail, _, _ in self.columns}

    def unpack(self, packed: np.ndarray) -> dict[str, np.ndarray]:
        """Key -> (B, ...) values from the rows of ``packed`` (K, B)."""
        B = packed.shape[1]
        return {k: packed[off : off + w].T.reshape((B,) + tail) for k, tail, off, w in self.columns}
