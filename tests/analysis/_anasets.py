"""Known sets generated at high resolution, for the box-counting tests."""

import numpy as np


def koch_curve(level=9, per_segment=4):
    """Points along the Koch curve on [0, 1] (dimension log 4 / log 3 = 1.2619)."""
    pts = np.array([0.0 + 0j, 1.0 + 0j])
    rot = np.exp(1j * np.pi / 3)
    for _ in range(level):
        a, b = pts[:-1], pts[1:]
        d = (b - a) / 3
        p1, p2 = a + d, a + 2 * d
        peak = p1 + d * rot
        new = np.empty(4 * a.size + 1, dtype=complex)
        new[0:-1:4], new[1::4], new[2::4], new[3::4] = a, p1, peak, p2
        new[-1] = pts[-1]
        pts = new
    t = np.linspace(0, 1, per_segment, endpoint=False)
    a, b = pts[:-1], pts[1:]
    fill = (a[:, None] + (b - a)[:, None] * t[None, :]).ravel()
    fill = np.append(fill, pts[-1])
    return np.stack([fill.real, fill.imag], axis=1)


def sierpinski_triangle(level=12):
    """All level-``level`` vertices of the IFS (dimension log 3 / log 2 = 1.585)."""
    v = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])
    pts = v.copy()
    for _ in range(level - 1):
        pts = np.concatenate([(pts + vi) / 2 for vi in v])
    return pts


def circle(n=1_000_000):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([np.cos(t), np.sin(t)], axis=1)


def filled_square(n=1000):
    g = (np.arange(n) + 0.5) / n
    X, Y = np.meshgrid(g, g)
    return np.stack([X.ravel(), Y.ravel()], axis=1)
