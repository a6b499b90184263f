"""How key demand becomes wavelengths (Kaewpuang et al.; shared/DESIGN.md section 2).

A request with key-rate demand k on a link whose QKD link delivers K bit/s needs P = ceil(k/K)
parallel QKD links, each occupying 3 wavelengths, and key-management (KM) wavelengths: one KM link
of 1 wavelength (Kaewpuang eq. 6), or one per parallel QKD link, P·W_kml with W_kml = 1 (eq. 35,
``km_per_qkd_link``). The same rule is planned by the twin (``twin.qkd``) and executed by the
physical network (``physical.qkd_network``), so it lives here once.
"""

from __future__ import annotations

import math
from typing import Final

QKD_WAVELENGTHS_PER_LINK: Final = 3  #: wavelengths one QKD link occupies
KM_WAVELENGTHS_PER_LINK: Final = 1  #: wavelengths one key-management link occupies
DEMAND_TOLERANCE: Final = 1e-9  #: k/K within this above an integer does not need another QKD link


def qkd_links_needed(demand_bps: float, key_rate_bps: float) -> int:
    """P = ceil(k/K): parallel QKD links needed for ``demand_bps`` (bit/s) at ``key_rate_bps`` (bit/s) per link; 0 without demand."""
    if demand_bps <= 0:
        return 0
    return max(1, math.ceil(demand_bps / key_rate_bps - DEMAND_TOLERANCE))


def km_wavelengths_needed(qkd_links: int, km_per_qkd_link: bool) -> int:
    """KM wavelengths a request with ``qkd_links`` (P) parallel QKD links needs on a link: P·W_kml with
    ``km_per_qkd_link`` (eq. 35), else 1 (eq. 6; a served request keeps its KM link even at zero demand)."""
    if km_per_qkd_link:
        return KM_WAVELENGTHS_PER_LINK * qkd_links
    return KM_WAVELENGTHS_PER_LINK
