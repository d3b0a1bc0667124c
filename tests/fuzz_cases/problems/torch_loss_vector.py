from gdchaos import TorchProblem


class Bad(TorchProblem):
    n_params = 2

    def torch_loss(self, x):
        return 0.5 * x * x
