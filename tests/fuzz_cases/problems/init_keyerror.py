import numpy as np
from gdchaos import NumbaProblem


class Bad(NumbaProblem):
    """__init__ looks a parameter up in a dict and fails."""
    n_params = 2

    def __init__(self, y=1.0):
        self.y = {"a": 1.0}["y"]

    @staticmethod
    def loss_grad(x, c, g):
        r = x[0] * x[1] - 1.0
        g[0] = r * x[1]
        g[1] = r * x[0]
        return 0.5 * r * r
