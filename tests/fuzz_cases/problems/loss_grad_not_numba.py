import numpy as np
from gdchaos import NumbaProblem


class Bad(NumbaProblem):
    n_params = 2

    @staticmethod
    def loss_grad(x, c, g):
        v = x.tolist()
        g[0] = v[0]
        g[1] = v[1]
        return 0.5 * (v[0] * v[0] + v[1] * v[1])
