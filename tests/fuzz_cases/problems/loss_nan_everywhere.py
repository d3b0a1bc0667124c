import numpy as np
from gdchaos import NumbaProblem


class Bad(NumbaProblem):
    n_params = 2

    @staticmethod
    def loss_grad(x, c, g):
        g[0] = np.nan
        g[1] = np.nan
        return np.nan
