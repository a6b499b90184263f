"""sagin-twin: command line and shared infrastructure (errors). Kept import-light on purpose."""

__version__ = "0.1.0"
