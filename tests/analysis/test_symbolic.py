"""Symbolic dynamics and periodic orbits (Props. 18 and 19)."""

from fractions import Fraction

import numpy as np
import pytest

from gdchaos.errors import GdchaosInputError
from gdchaos.analysis import (boundary_itinerary, boundary_periodic_orbit, gd_periodic_orbit,
                              is_primitive, primitive_words, tent_point, word_point)
from gdchaos.theory import quotient as tq


def test_paper_period_three_orbit():
    """5/7 -> 1/7 -> -3/7 -> 5/7 under the piecewise-linear map (Prop. 18)."""
    assert tent_point((2, 1, 0)) == Fraction(5, 7)
    assert tent_point((1, 0, 2)) == Fraction(1, 7)
    s = 5 / 7
    for want in (1 / 7, -3 / 7, 5 / 7):
        s = float(tq.tent3_map(s))
        assert s == pytest.approx(want, abs=1e-14)


@pytest.mark.parametrize("K", range(1, 13))
def test_boundary_map_orbits_every_period(K):
    o = boundary_periodic_orbit(K)
    assert o.return_error <= 1e-10 and o.minimal_period == K and o.verified
    assert o.info["itinerary_ok"] and o.points.shape == (K, 1)


def test_coding_counts_all_periodic_points():
    """Every word of length n codes a distinct fixed point of f^n: 3^n of them, with the
    itinerary of its word."""
    for n in range(1, 7):
        words = [w for w in np.ndindex(*(3,) * n)]
        Z = np.array([word_point(w) for w in words])
        assert np.unique(np.round(Z, 9)).size == 3 ** n
        it = boundary_itinerary(Z, n)
        np.testing.assert_array_equal(it, np.array(words))
        assert len(primitive_words(n)) == sum(
            3 ** d * _mobius(n // d) for d in range(1, n + 1) if n % d == 0)


def _mobius(n):
    out, p = 1, 2
    while n > 1:
        if n % p == 0:
            n //= p
            if n % p == 0:
                return 0
            out = -out
        p += 1
    return out


@pytest.mark.parametrize("d,eta,y", [(2, 1.0, 0.5), (3, 0.4, 1.2)])
def test_gd_orbits_every_period(d, eta, y):
    for K in range(1, 13):
        o = gd_periodic_orbit(K, d=d, eta=eta, y=y, seed=K)
        assert o.return_error <= 1e-10 and o.minimal_period == K, (K, o.return_error)
        assert o.points.shape == (K, 2 * d)
        # the lift sits on the quotient orbit: T(u, v) = (z, w) on {Q = 8}
        u, v = o.points[:, :d], o.points[:, d:]
        z, w = tq.quotient_T(u, v, y)
        np.testing.assert_allclose(np.stack([z, w], 1), o.info["quotient_orbit_zw"][:K]
                                   if K != 2 else np.repeat(o.info["quotient_orbit_zw"], 2, 0),
                                   atol=1e-9)
        np.testing.assert_allclose(tq.q_scaled(eta * z, eta * w, eta * y), 8.0, atol=1e-9)


def test_bad_words_and_parameters():
    assert not is_primitive((0, 1, 0, 1)) and is_primitive((0, 0, 1))
    with pytest.raises(GdchaosInputError):
        boundary_periodic_orbit(4, word=(1, 0, 1, 0))
    with pytest.raises(GdchaosInputError):
        boundary_periodic_orbit(3, word=(1, 3, 0))
    with pytest.raises(GdchaosInputError):
        gd_periodic_orbit(3, eta=1.0, y=1.5)
    with pytest.raises(GdchaosInputError):
        gd_periodic_orbit(3, word=(0, 1, 2))  # odd counts: GD period 6, not 3
