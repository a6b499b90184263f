"""sagin-twin: the command line. Kept import-light on purpose; nothing below the CLI imports it."""

from common import __version__

__all__ = ["__version__"]
