"""Sub-commands of the ``gdchaos`` command line; each module has ``register(subparsers)``."""

from . import analysis, core, explore, figures, fractal, maps, nn, rerun

REGISTRARS = [core.register, maps.register, analysis.register, fractal.register, nn.register,
              figures.register, explore.register, rerun.register]
