"""Primitives every layer may use and that import nothing else of the project.

``errors`` (InputError, RunFailure), ``input_files`` (the one guarded reader for every input
file), ``threads`` (native thread limits for reproducible runs) and ``provenance`` (what produced a
result). The physical world, the twin, scenarios, sweeps and the command line all sit above this
package; nothing here imports them (``tests/test_architecture.py``).
"""

__version__ = "0.1.0"  #: the project's version (pyproject.toml carries the same string; a test keeps them equal)
