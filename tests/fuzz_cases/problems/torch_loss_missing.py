from gdchaos import TorchProblem


class Bad(TorchProblem):
    n_params = 2
