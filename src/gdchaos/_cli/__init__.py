"""Sub-commands of the ``gdchaos`` command line; each module has ``register(subparsers)``."""

from . import core, figures

REGISTRARS = [core.register, figures.register]
