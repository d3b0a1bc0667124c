from gdchaos import TorchProblem


class Good(TorchProblem):
    """A well-defined torch problem: L(u, v) = 1/2 (u v - 1)^2."""
    n_params = 2

    def torch_loss(self, x):
        return 0.5 * (x[0] * x[1] - 1.0) ** 2
