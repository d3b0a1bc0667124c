import numpy as np
from gdchaos import NumbaProblem

SCALE = 2.0


class Bad(NumbaProblem):
    n_params = 2

    @staticmethod
    def loss_grad(x, c, g):
        g[0] = SCALE * x[0]
        g[1] = SCALE * x[1]
        return 0.5 * SCALE * (x[0] * x[0] + x[1] * x[1])
