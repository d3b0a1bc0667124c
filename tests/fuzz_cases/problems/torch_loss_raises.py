from gdchaos import TorchProblem


class Bad(TorchProblem):
    n_params = 2

    def torch_loss(self, x):
        raise RuntimeError("the user's torch loss fails")
