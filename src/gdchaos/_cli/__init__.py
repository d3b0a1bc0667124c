"""Sub-commands of the ``gdchaos`` command line; each module has ``register(subparsers)``."""

from . import analysis, core, explore, figures, maps, nn

REGISTRARS = [core.register, maps.register, analysis.register, nn.register, figures.register,
              explore.register]
