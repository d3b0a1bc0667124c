import numpy as np
from gdchaos import NumbaProblem


class Bad(NumbaProblem):
    n_params = 2

    @staticmethod
    def loss_grad(x, g):
        g[0] = x[0]
        g[1] = x[1]
        return 0.5 * (x[0] * x[0] + x[1] * x[1])
