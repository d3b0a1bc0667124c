import numpy as np
from gdchaos import NumbaProblem


class Bad(NumbaProblem):
    n_params = 2

    @staticmethod
    def loss_grad(x, c, g):
        g[0] = 1.0 / (x[0] - x[0])
        g[1] = x[1]
        return 0.5 * x[1] * x[1]
