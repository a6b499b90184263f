"""Per-wavelength prices of a link from its component counts and Table I (Kaewpuang et al.).

A link of length e over a medium with MDI-QKD span Θ has n = ceil(e/Θ) segments. Per P parallel QKD
links it needs Tx 2·P·n, Rx P·n, and per key-management (KM) link LKM n+1, SI n−1 and MUX
n + (n−1) = 2n−1 (counts clamped at 0). A QKD link occupies 3 wavelengths and a KM link 1, so:

    price_qkd = (2n·Tx + n·Rx)/3 + e·channel_per_km                    (per QKD wavelength)
    price_km  = (n+1)·LKM + (n−1)·SI + (2n−1)·MUX + e·channel_per_km   (per KM wavelength)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from physical.wavelengths import QKD_WAVELENGTHS_PER_LINK
from twin.qkd.instance import Link, Medium, QkdInstance

SEGMENT_TOLERANCE: Final = 1e-9  #: e/Θ within this of an integer counts as that integer (no spurious extra segment)


@dataclass(frozen=True)
class ComponentCounts:
    """Components of one QKD link (tx, rx) and one KM link (lkm, si, mux) on a link of ``segments`` spans."""

    segments: int
    tx: int
    rx: int
    lkm: int
    si: int
    mux: int


def segments(length_km: float, span_km: float) -> int:
    """n = ceil(e/Θ), the number of MDI-QKD spans on a link of ``length_km`` (km); at least 1."""
    return max(1, math.ceil(length_km / span_km - SEGMENT_TOLERANCE))


def component_counts(length_km: float, span_km: float) -> ComponentCounts:
    """Component counts per QKD link and per KM link of a link ``length_km`` (km) long with span ``span_km`` (km)."""
    n = segments(length_km, span_km)
    return ComponentCounts(segments=n, tx=2 * n, rx=n, lkm=n + 1, si=max(0, n - 1), mux=max(0, 2 * n - 1))


def qkd_wavelength_price(link: Link, medium: Medium) -> float:
    """Reservation price of one QKD wavelength on ``link`` (cost units): (2n·Tx + n·Rx)/3 + e·c."""
    c = component_counts(link.length_km, medium.span_km)
    cost = medium.cost
    return (c.tx * cost.tx + c.rx * cost.rx) / QKD_WAVELENGTHS_PER_LINK + link.length_km * cost.channel_per_km


def km_wavelength_price(link: Link, medium: Medium) -> float:
    """Reservation price of one KM wavelength on ``link`` (cost units): (n+1)·LKM + (n−1)·SI + (2n−1)·MUX + e·c."""
    c = component_counts(link.length_km, medium.span_km)
    cost = medium.cost
    return c.lkm * cost.lkm + c.si * cost.si + c.mux * cost.mux + link.length_km * cost.channel_per_km


def link_prices(instance: QkdInstance) -> tuple[list[float], list[float]]:
    """(QKD, KM) wavelength prices of every link of ``instance``, in link order (cost units)."""
    qkd = [qkd_wavelength_price(l, instance.media[l.medium]) for l in instance.links]
    km = [km_wavelength_price(l, instance.media[l.medium]) for l in instance.links]
    return qkd, km
