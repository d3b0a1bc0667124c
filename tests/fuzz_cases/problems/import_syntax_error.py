import numpy as np
from gdchaos import NumbaProblem


class Bad(NumbaProblem):
    n_params = 2

    @staticmethod
    def loss_grad(x, c, g)
        return 0.0
