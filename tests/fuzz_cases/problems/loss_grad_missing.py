import numpy as np
from gdchaos import NumbaProblem


class Bad(NumbaProblem):
    n_params = 2
