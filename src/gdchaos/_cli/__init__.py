"""Sub-commands of the ``gdchaos`` command line; each module has ``register(subparsers)``."""

from . import analysis, core, figures

REGISTRARS = [core.register, analysis.register, figures.register]
