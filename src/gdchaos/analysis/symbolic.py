"""Symbolic dynamics of the boundary map and periodic orbits of GD (Props. 18 and 19).

The boundary map ``f(Z) = Z^3 - 3Z`` on ``[-2, 2]`` is conjugate, through
``Z = 2 sin(pi s / 2)``, to the piecewise-linear map ``g(s)`` with slopes +-3 on the pieces
``I0 = [-1, -1/3]``, ``I1 = (-1/3, 1/3)``, ``I2 = [1/3, 1]`` (``Z`` pieces ``[-2, -1]``,
``(-1, 1)``, ``[1, 2]``).  Each piece maps onto ``[-1, 1]``, so every word ``w`` over
``{0, 1, 2}`` of length ``K`` codes exactly one point of period dividing ``K`` (its minimal period
is ``K`` when ``w`` is primitive, i.e. not a power of a shorter word).  The inverse branches of
``g`` are affine with rational coefficients, so that point is computed *exactly* as a fraction
and then mapped to ``Z``.

GD (Prop. 19, ``lam = 0``): with ``p = u + v``, ``q = u - v`` a GD step is
``p -> (1 - eta z) p``, ``q -> (1 + eta z) q`` with ``z = u.v - y``, and
``|p|^2 = w + 2(z + y)``, ``|q|^2 = w - 2(z + y)``.  A periodic orbit of the planar map on
the invariant segment ``{Q = 8}`` (``W = alpha Z + 4``, ``Z`` on the boundary-map orbit) lifts
to a periodic orbit of GD in ``R^d x R^d``: ``p`` and ``q`` keep their directions and their
lengths return, so the GD orbit closes after ``K`` steps when the number of steps with
``1 - Z < 0`` (symbol 2) is even or ``p = 0``, and the number with ``1 + Z < 0`` (symbol 0) is
even or ``q = 0``; otherwise after ``2K`` steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction
from itertools import product

import numpy as np

from ..errors import GdchaosInputError, check_int, check_positive, check_seed

__all__ = ["PeriodicOrbit", "boundary_itinerary", "tent_point", "word_point", "is_primitive",
           "primitive_words", "boundary_periodic_orbit", "verify_periodic_orbit",
           "minimal_period", "lift_to_uv", "gd_periodic_orbit", "check_word",
           "periodic_orbit_cost"]

_THIRD = Fraction(1, 3)
_PREC = 50
_PI = Decimal("3.14159265358979323846264338327950288419716939937510582097494459230781640629")


def boundary_itinerary(Z, n):
    """Symbols of ``Z, f(Z), ..., f^{n-1}(Z)``: 0 on ``[-2, -1]``, 1 on ``(-1, 1)``, 2 on
    ``[1, 2]`` (arrays welcome; returns ``(..., n)`` ints)."""
    Z = np.asarray(Z, dtype=float)
    out = np.empty(Z.shape + (int(n),), dtype=np.int8)
    x = Z.copy()
    for t in range(int(n)):
        out[..., t] = np.where(x <= -1.0, 0, np.where(x >= 1.0, 2, 1))
        x = np.clip(x * x * x - 3.0 * x, -2.0, 2.0)
    return out


def check_word(word):
    """``word`` (a string of 0/1/2 or a sequence of those integers) as a list of ints; anything
    else is refused with one line."""
    msg = f"a word is a non-empty sequence of symbols 0, 1, 2; got {word!r}"
    try:
        items = list(word)
    except TypeError:
        raise GdchaosInputError(msg) from None
    w = []
    for c in items:
        symbol = isinstance(c, str) and len(c) == 1 and c in "012"
        integer = isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_))
        if not (symbol or integer):
            raise GdchaosInputError(msg)
        w.append(int(c))
    if not w or any(c not in (0, 1, 2) for c in w):
        raise GdchaosInputError(msg)
    return w


def tent_point(word):
    """The exact point ``s`` (a Fraction) of the piecewise-linear map whose itinerary is the
    infinite repetition of ``word``: the fixed point of the composed inverse branches
    ``h0(t) = (t - 2)/3``, ``h1(t) = -t/3``, ``h2(t) = (t + 2)/3``."""
    w = check_word(word)
    a, b = Fraction(1), Fraction(0)  # s = a t + b, composing from the last symbol inwards
    for c in reversed(w):
        # s_new = h_c(a t + b)
        if c == 0:
            a, b = a * _THIRD, (b - 2) * _THIRD
        elif c == 1:
            a, b = -a * _THIRD, -b * _THIRD
        else:
            a, b = a * _THIRD, (b + 2) * _THIRD
    return b / (1 - a)


def _dec(x):
    if isinstance(x, Fraction):
        return Decimal(x.numerator) / Decimal(x.denominator)
    return Decimal(x)  # exact for floats and ints


def _sin(x):
    """sin of a Decimal by its Taylor series (|x| <= pi / 2 here), at the context precision."""
    term, total, k = x, x, 1
    eps = Decimal(10) ** (-_PREC - 5)
    while abs(term) > eps:
        term = -term * x * x / ((2 * k) * (2 * k + 1))
        total += term
        k += 1
    return total


def _word_point_dec(word):
    with localcontext() as ctx:
        ctx.prec = _PREC
        return 2 * _sin(_PI * _dec(tent_point(word)) / 2)


def word_point(word):
    """``Z = 2 sin(pi s / 2)`` of :func:`tent_point`, evaluated with 50 significant digits and
    rounded once to float64 (an unstable orbit of period K amplifies the error of its starting
    point ~3^K times, so the start must be as exact as float64 allows)."""
    return float(_word_point_dec(word))


def is_primitive(word):
    w = check_word(word)
    K = len(w)
    return all(w != w[:d] * (K // d) for d in range(1, K) if K % d == 0)


def primitive_words(K):
    """All primitive words of length ``K`` (``3^K`` words are scanned; keep ``K`` modest)."""
    if not 1 <= int(K) <= 14:
        raise GdchaosInputError(f"enumerating words needs 1 <= K <= 14, got {K}")
    return [w for w in product((0, 1, 2), repeat=int(K)) if is_primitive(w)]


@dataclass
class PeriodicOrbit:
    """A periodic orbit with its verification by iteration.

    ``points``: ``(K, P)`` orbit (``K`` = requested period); ``return_error``: sup-norm
    distance of ``F^K(x0)`` from ``x0`` computed by iterating in float64; ``minimal_period``:
    smallest ``k`` with ``|F^k(x0) - x0| <= tol_return`` (found by the same iteration);
    ``separation``: smallest distance between two points of the orbit."""

    period: int
    word: tuple
    points: np.ndarray
    return_error: float
    minimal_period: int
    separation: float
    info: dict = field(default_factory=dict)

    @property
    def verified(self):
        return self.minimal_period == self.period and self.return_error <= self.info.get(
            "tol", 1e-10)

    def as_dict(self):
        return {"period": int(self.period), "word": "".join(map(str, self.word)),
                "points": self.points.tolist(), "return_error": float(self.return_error),
                "minimal_period": int(self.minimal_period), "separation": float(self.separation),
                "verified": bool(self.verified), "info": self.info}


def minimal_period(step, x0, k_max, tol):
    """Smallest ``k <= k_max`` with ``|F^k(x0) - x0|_inf <= tol`` (0 if none), iterating."""
    x0 = np.atleast_2d(np.asarray(x0, dtype=float))
    x = x0.copy()
    for k in range(1, int(k_max) + 1):
        x = step(x)
        if np.max(np.abs(x - x0)) <= tol:
            return k
    return 0


def verify_periodic_orbit(step, x0, period, tol=1e-10):
    """``(orbit (K, P), return_error, minimal_period, separation)`` by iterating ``step``."""
    x = np.atleast_2d(np.asarray(x0, dtype=float))
    orbit = [x[0]]
    for _ in range(int(period)):
        x = step(x)
        orbit.append(x[0])
    orbit = np.array(orbit)
    err = float(np.max(np.abs(orbit[-1] - orbit[0])))
    pts = orbit[:-1]
    sep = np.inf
    if len(pts) > 1:  # nearest other point in the sup norm (a k-d tree: no K x K table)
        from scipy.spatial import cKDTree

        dist, _ = cKDTree(pts).query(pts, k=2, p=np.inf)
        sep = float(np.min(dist[:, 1]))
    mp = minimal_period(step, orbit[0], int(period), tol)
    return pts, err, mp, sep


def _default_word(K):
    """A primitive word of length K: mostly 1s (the best-conditioned orbits, near Z = 0), with
    an even number of 0s and of 2s so that the orbit also lifts to GD with the same period."""
    if K == 1:
        return (1,)
    if K == 2:
        return (0, 1)
    return (1,) * (K - 2) + (0, 0)


def _boundary_step(X):
    Z = X[:, 0]
    return (Z * Z * Z - 3.0 * Z)[:, None]


def boundary_periodic_orbit(period, word=None, tol=1e-10) -> PeriodicOrbit:
    """A periodic orbit of ``Z -> Z^3 - 3Z`` of minimal period ``period``, built from a
    primitive ``word`` (default: ``1...100``, mostly near 0, where the orbit is best
    conditioned), its points computed exactly in the conjugate coordinate and checked by
    iterating the map in float64."""
    K = check_int("period", period)
    if K < 1:
        raise GdchaosInputError(f"period must be >= 1, got {period}")
    w = tuple(check_word(word)) if word is not None else _default_word(K)
    if len(w) != K:
        raise GdchaosInputError(f"the word {w} has length {len(w)}, not the period {K}")
    if not is_primitive(w):
        raise GdchaosInputError(f"the word {w} is a repetition of a shorter word: its point "
                                "has a smaller period")
    Z0 = word_point(w)
    pts, err, mp, sep = verify_periodic_orbit(_boundary_step, [Z0], K, tol)
    rot = [tuple(w[i:] + w[:i]) for i in range(K)]
    exact = np.array([word_point(r) for r in rot])
    mult = float(np.prod(np.abs(3.0 * exact ** 2 - 3.0)))
    return PeriodicOrbit(K, w, pts, err, mp, sep,
                         {"tol": tol, "s0": str(tent_point(w)), "multiplier": mult,
                          "exact_points": exact.tolist(),
                          "itinerary_ok": bool(np.all(boundary_itinerary(exact, 1)[:, 0]
                                                      == np.array(w)))})


def lift_to_uv(z, w, y, d, rng=None, directions=None):
    """A point ``(u, v)`` of ``R^d x R^d`` with ``T(u, v) = (z, w)``: ``p = u + v`` and
    ``q = u - v`` of lengths ``sqrt(w + 2(z + y))`` and ``sqrt(w - 2(z + y))`` along two unit
    vectors (``directions``, shape ``(2, d)``, or random from ``rng``).  ``z`` and ``w`` may be
    floats or Decimals; the arithmetic is done with 50 digits and rounded once."""
    if directions is None:
        rng = np.random.default_rng(0) if rng is None else rng
        directions = rng.standard_normal((2, int(d)))
    e = np.asarray(directions, dtype=float)
    if e.shape != (2, int(d)) or not np.all(np.isfinite(e)) or np.any(np.all(e == 0, axis=1)):
        raise GdchaosInputError(f"directions must be two non-zero vectors of R^{d}")
    with localcontext() as ctx:
        ctx.prec = _PREC
        z, w, y = _dec(z), _dec(w), _dec(y)
        s = z + y
        a2, b2 = w + 2 * s, w - 2 * s
        if min(a2, b2) < -Decimal("1e-12") * max(Decimal(1), abs(w)):
            raise GdchaosInputError(f"(z, w) = ({float(z)}, {float(w)}) is outside the state "
                                    "space w >= 2|z + y|")
        a, b = max(a2, Decimal(0)).sqrt(), max(b2, Decimal(0)).sqrt()
        dirs = []
        for row in e:
            r = [_dec(float(c)) for c in row]
            nrm = sum(c * c for c in r).sqrt()
            dirs.append([c / nrm for c in r])
        p = [a * c for c in dirs[0]]
        q = [b * c for c in dirs[1]]
        u = np.array([float((pi + qi) / 2) for pi, qi in zip(p, q)])
        v = np.array([float((pi - qi) / 2) for pi, qi in zip(p, q)])
    return u, v


def gd_periodic_orbit(period, d=2, eta=1.0, y=0.5, seed=0, tol=1e-10, word=None):
    """A periodic orbit of GD on scalar factorization (``lam = 0``, ``u, v`` in ``R^d``) of
    minimal period ``period`` (Prop. 19), checked by iterating GD in float64.

    Needs ``|eta y| < 1``.  The boundary-map orbit of a primitive word is put on the invariant
    segment (``Z = eta z``, ``W = eta w = alpha Z + 4``) and lifted with random directions for
    ``p = u + v`` and ``q = u - v``; the starting point is computed with 50 digits and rounded
    once to float64.  Period 2 uses the fixed point ``Z = -2`` (``p = 0``,
    ``q -> -q``).  Returns a :class:`PeriodicOrbit` of flat ``(u, v)`` rows; ``info`` holds the
    word, the quotient orbit and the sign counts.
    """
    from ..problems import ScalarFactorization

    K = check_int("period", period, lo=1)
    seed = check_seed("seed", seed)
    check_positive("step size eta", eta)
    if not abs(eta * y) < 1:
        raise GdchaosInputError(f"periodic orbits on {{Q = 8}} need |eta y| < 1, got {eta * y}")
    d = check_int("d", d, lo=1)
    alpha = eta * y
    if word is None:
        word = (0,) if K == 2 else _default_word(K)
    w = tuple(check_word(word))
    if not is_primitive(w):
        raise GdchaosInputError(f"the word {w} is not primitive")
    n0, n2 = w.count(0), w.count(2)
    Zs = np.array([word_point(tuple(w[i:] + w[:i])) for i in range(len(w))])
    p_zero = w == (0,)  # Z = -2: w + 2(z + y) = 0
    q_zero = w == (2,)  # Z = 2: w - 2(z + y) = 0
    flips = (n2 % 2 == 1 and not p_zero) or (n0 % 2 == 1 and not q_zero)
    gd_period = len(w) * (2 if flips else 1)
    if gd_period != K:
        raise GdchaosInputError(f"the word {''.join(map(str, w))} gives a GD orbit of period "
                                f"{gd_period}, not {K}")
    with localcontext() as ctx:
        ctx.prec = _PREC
        Z0 = _word_point_dec(w)
        W0 = _dec(eta) * _dec(y) * Z0 + 4
        z0, w0 = Z0 / _dec(eta), W0 / _dec(eta)
    u, v = lift_to_uv(z0, w0, y, d, rng=np.random.default_rng(seed))
    prob = ScalarFactorization(d=int(d), y=float(y), lam=0.0)
    x0 = np.concatenate([u, v])

    def step(X):
        return prob.step(X, eta)

    pts, err, mp, sep = verify_periodic_orbit(step, x0, K, tol)
    return PeriodicOrbit(K, w, pts, err, mp, sep,
                         {"tol": tol, "d": int(d), "eta": float(eta), "y": float(y),
                          "quotient_orbit_Z": Zs.tolist(),
                          "quotient_orbit_zw": [[float(Z / eta), float((alpha * Z + 4) / eta)]
                                                for Z in Zs],
                          "n_symbol0": n0, "n_symbol2": n2, "p_zero": bool(p_zero),
                          "q_zero": bool(q_zero)})


def periodic_orbit_cost(periods, d=2, gd=False):
    """Estimated work of building and verifying periodic orbits of the given periods:
    ``(operations, memory_bytes)``.  Every rotation of a word of length ``K`` is solved
    exactly (``K`` steps on fractions of about ``K`` digits, then a 50-digit sine: about
    ``100 K^3`` digit operations an orbit); the lift to GD takes about ``100 d``; the
    verification iterates ``K`` points of ``R^P`` (``P = 2d`` for GD, else 1) ``2K`` times
    and keeps a few copies of them."""
    P = 2 * int(d) if gd else 1
    ops = sum(100.0 * float(K) ** 3 + 100.0 * P + 2.0 * K * K * P for K in periods)
    return ops, int(max(64 * int(K) * P for K in periods))
