"""gdchaos: gradient descent with large step sizes as a dynamical system."""

__version__ = "0.1.0"
