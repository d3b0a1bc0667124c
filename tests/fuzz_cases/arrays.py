"""Arrays for the fuzz cases (``{npy:NAME}`` in tests/fuzz_cases/*.txt): NAME -> a builder."""

import numpy as np


def _nan_labels():
    L = np.zeros((8, 8))
    L[:, 4:] = 1.0
    L[2, 3] = np.nan
    return L


def _inf_labels():
    L = np.zeros((8, 8))
    L[5, 5] = np.inf
    return L


def _fraction_labels():
    L = np.zeros((8, 8))
    L[:, 4:] = 2.5
    return L


def _three_labels():
    L = np.zeros((12, 12), dtype=np.int64)
    L[:, 4:8] = 1
    L[:, 8:] = 2
    return L


def _nan_points():
    P = np.random.default_rng(0).random((50, 2))
    P[7, 1] = np.nan
    return P


ARRAYS = {
    "labels_ok": lambda: np.zeros((8, 8), dtype=np.int64),
    "labels_three": _three_labels,
    # labels that are not outcome labels
    "labels_strings": lambda: np.array([["a", "b"] * 4] * 8),
    "labels_negative": lambda: -np.ones((8, 8), dtype=np.int64),
    "labels_nan": _nan_labels,
    "labels_inf": _inf_labels,
    "labels_fraction": _fraction_labels,
    "labels_3d": lambda: np.zeros((4, 4, 4), dtype=np.int64),
    "labels_1d": lambda: np.zeros(16, dtype=np.int64),
    "labels_empty": lambda: np.zeros((0, 0), dtype=np.int64),
    "labels_complex": lambda: np.zeros((8, 8), dtype=complex),
    "labels_object": lambda: np.array([[None, 1], [2, "x"]], dtype=object),
    "labels_struct": lambda: np.zeros((8, 8), dtype=[("a", "i4"), ("b", "f8")]),
    # 300 x 300 pixels, every one its own outcome: measures that loop over outcomes explode
    "labels_distinct": lambda: np.arange(300 * 300, dtype=np.int64).reshape(300, 300),
    # point sets for dimension --points
    "points_strings": lambda: np.array([["1", "x"]] * 20),
    "points_nan": _nan_points,
    "points_inf": lambda: np.full((20, 2), np.inf),
    "points_3d": lambda: np.zeros((5, 5, 2)),
    "points_1d": lambda: np.linspace(0, 1, 30),
    "points_one": lambda: np.zeros((1, 2)),
    "points_empty": lambda: np.zeros((0, 2)),
    "points_bool": lambda: np.ones((20, 2), dtype=bool),
    "points_complex": lambda: np.ones((20, 2), dtype=complex),
}
