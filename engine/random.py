"""Random streams: a counter-based integer hash keyed by structure, so that a path's draws never
depend on chunking, on the number of paths, on the device count or on other inputs.

Every random number of the engine is one 32-bit hash of its coordinates:

    root            = H(seed ^ ROOT_SALT)
    stream key      = H(root ^ H(STREAM))                   STREAM in {INPUTS, PRICE, FAILURE, POSTERIOR}
    per-name key    = H(stream key ^ stable_id(name))       input name, generation, cohort, or a
                                                            posterior file's sha256 (machine-independent)
    per-path key    = H(per-name key ^ H(path_index))
    draw j (month)  = H(H(per-path key + j * GOLDEN))       j = 0 for a scalar input, t - 1 for month t

``H`` is ``mix32``, a 2-multiply xor-shift avalanche (C. Wellons' "lowbias32" hash-prospector
form, constants 0x21f0aaad / 0x735a2d97, shifts 16/15/15: among the lowest avalanche biases he
reports for this form). Draws apply it twice, so consecutive counters are separated by four
multiply-xorshift rounds; the statistical checks below are what the engine relies on. Cost: about 14 integer operations per 32-bit draw,
against about 100 for threefry-2x32 (20 rounds), which was the prototype's bottleneck.

So path i gets the same numbers whether it runs in a chunk of 1,000 or 100,000, on one device or
eight, whatever the number of paths (prefix invariance); an input keeps its draws when other
inputs change, and two scenarios that share an input name share its draws (common random
numbers, used by the stress tests).

Normal scores by inverse CDF, symmetric in the sign bit: the top bit of a draw gives the sign,
the low 31 bits a uniform u = (m + 0.5) 2^-32 in (0, 1/2), and z = -+ndtri(u). The smallest u
is 1.2e-10, so |z| <= 6.35 (P(|Z| > 6.35) = 2e-10: the truncation is invisible at any path count
the engine runs). float32 and float64 runs use the same 32 bits, so their normals agree to
float32 rounding. The monthly shocks (``draw_noise``) use the same bits and layout with a cheaper
evaluation of the same inverse CDF, Giles' single-precision erfinv approximation
(``monthly_normal_from_bits``: |error| < 5e-7 for |z| < 5, docs/methodology.md); the per-path
inputs keep ``ndtri``. tests/test_random_quality.py checks moments, a KS test, independence across
months, paths and streams, and the invariances. This is the only module that creates draws.
"""

from __future__ import annotations

from enum import IntEnum

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtri

from engine.compile import Model, stable_id
from engine.inputs.distributions import quantile

_M1, _M2 = np.uint32(0x21F0AAAD), np.uint32(0x735A2D97)
_GOLDEN = np.uint32(0x9E3779B9)  # Weyl increment between counters: 2^32 / golden ratio
_ROOT_SALT = np.uint32(0x5EED5EED)


class Stream(IntEnum):
    INPUTS = 1
    PRICE = 2
    FAILURE = 3
    POSTERIOR = 4


def mix32(x):
    """The 32-bit avalanche hash H (uint32 in, uint32 out; JAX or NumPy arrays)."""
    x = x ^ (x >> 16)
    x = x * _M1
    x = x ^ (x >> 15)
    x = x * _M2
    return x ^ (x >> 15)


def _u32(x):
    return jnp.asarray(x, jnp.uint32)


def root_key(seed):
    """The root key (uint32 scalar) of a seed in [0, 2^32)."""
    return mix32(_u32(seed) ^ _ROOT_SALT)


def name_key(root, stream: Stream, name: str):
    """Key of one named stream (uint32 scalar): the same for every scenario using that name."""
    k = mix32(root ^ mix32(_u32(int(stream))))
    return mix32(k ^ _u32(stable_id(name)))


def path_key(key, path_index):
    """Key of one path within a named stream."""
    return mix32(key ^ mix32(_u32(path_index)))


def bits_at(pkey, j):
    """Draw(s) j (uint32, any shape) of a path key: H(H(pkey + j * GOLDEN))."""
    return mix32(mix32(pkey + j * _GOLDEN))


def bits(pkey, n: int):
    """(n,) uint32 draws j = 0..n-1 of a path key."""
    return bits_at(pkey, jnp.arange(n, dtype=jnp.uint32))


def normal_from_bits(b, dtype):
    """Standard normal scores from uint32 draws (inverse CDF, sign from the top bit); see above."""
    m = (b & np.uint32(0x7FFFFFFF)).astype(dtype)
    u = (m + 0.5) * (2.0**-32)
    z = ndtri(u)  # <= 0
    return jnp.where((b >> 31) > 0, -z, z).astype(dtype)


# Giles' single-precision erfinv (M. Giles, "Approximating the erfinv function", GPU Computing Gems
# Jade Edition, 2011, ch. 10, the float version), Horner coefficients from the highest power down:
# central branch in w - 2.5 (w < 5), tail branch in sqrt(w) - 3.
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
               -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def monthly_normal_from_bits(b, dtype):
    """Standard normal scores for the monthly shocks: the same sign-bit / 31-bit-uniform layout as
    ``normal_from_bits``, with the inverse CDF computed by Giles' division-free erfinv approximation
    instead of ``ndtri`` (about 3x cheaper on XLA:CPU; see the module docstring).

    With u in (0, 1/2) and x = 1 - 2u: Phi^-1(u) = -sqrt(2) erfinv(x), and Giles' w = -log(1 - x^2)
    is computed as -log(2u (2 - 2u)) (no cancellation for small u). Absolute error against the exact
    quantile of the same u below 1e-6 over the whole range (|z| <= 6.35); monotone within each branch.
    """
    m = (b & np.uint32(0x7FFFFFFF)).astype(dtype)
    u = (m + 0.5) * (2.0**-32)
    two_u = 2.0 * u
    w = -jnp.log(two_u * (2.0 - two_u))
    w1 = w - 2.5
    p1 = jnp.full_like(w, _GILES_CENTRAL[0])
    for c in _GILES_CENTRAL[1:]:
        p1 = c + p1 * w1
    w2 = jnp.sqrt(w) - 3.0
    p2 = jnp.full_like(w, _GILES_TAIL[0])
    for c in _GILES_TAIL[1:]:
        p2 = c + p2 * w2
    z = (-1.4142135623730951 * (1.0 - two_u)) * jnp.where(w < 5.0, p1, p2)  # <= 0
    return jnp.where((b >> 31) > 0, -z, z).astype(dtype)


def _normal(root, stream: Stream, name: str, path_index, n: int | None, dtype):
    b = bits(path_key(name_key(root, stream, name), path_index), 1 if n is None else n)
    z = normal_from_bits(b, dtype)
    return z[0] if n is None else z


def _monthly_normals(root, stream: Stream, name: str, path_index, n: int, dtype):
    """(n,) monthly shocks of one path: draw j is month j + 1, as ``_normal`` (same bits)."""
    return monthly_normal_from_bits(bits(path_key(name_key(root, stream, name), path_index), n), dtype)


def draw_inputs(model: Model, root, path_index, dtype):
    """Every scalar input for one path: (N,) values and the posterior sample index per file (F,)."""
    from engine.compiled import device_args, split

    st, args = split(model, dtype)
    return draw_inputs_from(st, device_args(args), root, path_index, dtype)


def draw_inputs_from(st, args, root, path_index, dtype):
    """``draw_inputs`` of the scenario with static part ``st`` and numbers ``args`` (engine/compiled.py):
    the random inputs' names and distributions are static; fixed values, posterior draws and the
    copula factor come from ``args``."""
    z = {}
    for name, kind in zip(st.input_names, st.inputs):
        if kind[0] == "dist":
            z[name] = _normal(root, Stream.INPUTS, name, path_index, None, dtype)
    if st.has_copula:
        zc = jnp.stack([z[n] for n in st.correlated])
        zc = args.copula_chol @ zc
        for j, n in enumerate(st.correlated):
            z[n] = zc[j]
    post_index = []
    for f, sha in enumerate(st.posterior_sha256):
        n_samples = next(kind[2] for kind in st.inputs if kind[0] == "posterior" and kind[1] == f)
        b = bits(path_key(name_key(root, Stream.POSTERIOR, sha), path_index), 1)[0]
        # uniform index: modulo bias at most n_samples / 2^32 (< 1e-5 for 40,000 posterior samples)
        post_index.append((b % np.uint32(n_samples)).astype(jnp.int32))
    values = []
    for j, (name, kind) in enumerate(zip(st.input_names, st.inputs)):
        if kind[0] == "posterior":
            values.append(args.posterior[str(j)][post_index[kind[1]]])
        elif kind[0] == "dist":
            values.append(quantile(kind[1], z[name]))
        else:
            values.append(args.fixed_inputs[j])
    pidx = jnp.stack(post_index) if post_index else jnp.zeros((0,), jnp.int32)
    return jnp.stack(values), pidx


def draw_noise(model: Model, root, path_index, dtype):
    """Monthly shocks for one path: price (T, G) by generation and failures (T, C) by cohort."""
    return _draw_noise(model.generations, model.cohorts, model.T, root, path_index, dtype)


def draw_noise_from(st, root, path_index, dtype):
    """``draw_noise`` of the scenario with static part ``st`` (engine/compiled.py)."""
    return _draw_noise(st.generations, st.cohorts, st.T, root, path_index, dtype)


def _draw_noise(generations, cohorts, T: int, root, path_index, dtype):
    zp = [_monthly_normals(root, Stream.PRICE, g, path_index, T, dtype) for g in generations]
    zf = [_monthly_normals(root, Stream.FAILURE, c, path_index, T, dtype) for c in cohorts]
    return jnp.stack(zp, axis=1), jnp.stack(zf, axis=1)


def noise_keys(model: Model, root, path_index):
    """Per-path keys of the monthly shock streams: price (G,) by generation, failures (C,) by cohort (uint32).

    ``monthly_shocks(keys, j, dtype)`` gives month j + 1's shocks from them, equal bit for bit to row j
    of ``draw_noise`` (same bits, same transform): a step can draw its month's shocks inside the scan
    instead of reading them from (T, ...) arrays made beforehand.
    """
    return _noise_keys(model.generations, model.cohorts, root, path_index)


def noise_keys_from(st, root, path_index):
    """``noise_keys`` of the scenario with static part ``st`` (engine/compiled.py)."""
    return _noise_keys(st.generations, st.cohorts, root, path_index)


def _noise_keys(generations, cohorts, root, path_index):
    kp = jnp.stack([path_key(name_key(root, Stream.PRICE, g), path_index) for g in generations])
    kf = jnp.stack([path_key(name_key(root, Stream.FAILURE, c), path_index) for c in cohorts])
    return kp, kf


def monthly_shocks(keys, j, dtype):
    """Month j + 1's shocks (j uint32 scalar, 0-based) from ``noise_keys``: price (G,) and failures (C,)."""
    kp, kf = keys
    return monthly_normal_from_bits(bits_at(kp, j), dtype), monthly_normal_from_bits(bits_at(kf, j), dtype)
