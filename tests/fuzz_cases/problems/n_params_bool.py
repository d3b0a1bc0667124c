import numpy as np
from gdchaos import NumbaProblem


class Bad(NumbaProblem):
    n_params = True

    @staticmethod
    def loss_grad(x, c, g):
        r = x[0] * x[1] - 1.0
        g[0] = r * x[1]
        g[1] = r * x[0]
        return 0.5 * r * r
