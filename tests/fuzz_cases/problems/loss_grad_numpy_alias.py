import numpy
from gdchaos import NumbaProblem


class Bad(NumbaProblem):
    n_params = 2

    @staticmethod
    def loss_grad(x, c, g):
        g[0] = numpy.cos(x[0])
        g[1] = x[1]
        return numpy.sin(x[0]) + 0.5 * x[1] * x[1]
