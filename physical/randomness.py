"""One seeded generator per component, keyed by a stable name (shared/DESIGN.md section 5).

``SeedSequence(seed, spawn_key=(crc32(name),))`` gives each component an independent stream that
does not depend on the order in which components are created, and never on ``hash()``.
"""

from __future__ import annotations

import zlib

import numpy as np


def component_rng(seed: int, name: str) -> np.random.Generator:
    """Generator for component ``name`` of a run seeded with ``seed``."""
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key,)))
