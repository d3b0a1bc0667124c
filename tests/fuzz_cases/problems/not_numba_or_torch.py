import numpy as np
from gdchaos.problems import UserProblem


class Bad(UserProblem):
    n_params = 2

    def loss(self, X):
        return np.sum(np.asarray(X) ** 2, axis=-1)
