import numpy as np
from gdchaos import NumbaProblem


class Bad(NumbaProblem):
    n_params = 2

    @classmethod
    def loss_grad(cls, x, c, g):
        g[0] = x[0]
        g[1] = x[1]
        return 0.5 * (x[0] * x[0] + x[1] * x[1])
