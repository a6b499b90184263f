"""Random QKD planning instances: requests and scenarios drawn on a given network from a numpy Generator.

What is drawn (the setting of ``bench/qkd_planning.py`` and of instance sweeps' ``[draw]``):
``requests`` requests between two distinct ground or UAV nodes picked uniformly, and ``scenarios``
equiprobable scenarios, each cloudy with probability ``cloudy_probability`` and asking every request
for a key rate log-uniform in [``demand_min_bps``, ``demand_max_bps``] (bit/s). The draws consume the
generator in a fixed order (requests, then per scenario its weather and its demands in request
order), so one seed gives one instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from twin.qkd.instance import QkdInstance, Request, Scenario

ENDPOINT_KINDS: Final = ("ground", "uav")  #: node kinds a drawn request may start or end at
CLOUDY_PROBABILITY: Final = 0.3  #: default chance that a drawn scenario is cloudy
DEMAND_RANGE_BPS: Final = (5e3, 150e3)  #: default log-uniform range of a drawn key demand (bit/s)


@dataclass(frozen=True)
class DrawSpec:
    """How many requests and scenarios to draw (0: keep the instance's) and their distribution."""

    requests: int = 0
    scenarios: int = 0
    cloudy_probability: float = CLOUDY_PROBABILITY
    demand_min_bps: float = DEMAND_RANGE_BPS[0]
    demand_max_bps: float = DEMAND_RANGE_BPS[1]


def endpoints(instance: QkdInstance) -> list[str]:
    """Names of the nodes a drawn request may join (ground and UAV nodes, in file order)."""
    return [n.name for n in instance.nodes if n.kind in ENDPOINT_KINDS]


def draw_instance(base: QkdInstance, draw: DrawSpec, rng: np.random.Generator) -> QkdInstance:
    """``base`` with drawn requests (if ``draw.requests``) and drawn scenarios (if ``draw.scenarios``).

    Drawn requests need drawn scenarios (the instance's scenarios give demands to its own requests).
    """
    if draw.requests and not draw.scenarios:
        raise ValueError("drawn requests need drawn scenarios (their demands)")
    requests = base.requests
    if draw.requests:
        nodes = endpoints(base)
        if len(nodes) < 2:
            raise ValueError(f"drawing requests needs at least two ground or UAV nodes, {base.source} has {len(nodes)}")
        drawn = []
        for i in range(draw.requests):
            src, dst = rng.choice(len(nodes), size=2, replace=False)
            drawn.append(Request(f"r{i}", nodes[src], nodes[dst]))
        requests = tuple(drawn)
    scenarios = base.scenarios
    if draw.scenarios:
        lo, hi = np.log(draw.demand_min_bps), np.log(draw.demand_max_bps)
        drawn_scenarios = []
        for k in range(draw.scenarios):
            weather = "cloudy" if rng.random() < draw.cloudy_probability else "clear"
            demand = {r.name: float(np.exp(rng.uniform(lo, hi))) for r in requests}
            drawn_scenarios.append(Scenario(f"s{k}", 1.0 / draw.scenarios, weather, demand))
        scenarios = tuple(drawn_scenarios)
    return QkdInstance(base.media, base.planning, base.nodes, base.links, requests, scenarios, base.source)
