"""The agents' QKD decisions in the simulator's terms: routes among the k shortest, reservation levels, on-demand levels.

The high-level (planning) agent chooses, per request, a route index i < k and a reservation level ℓ
from :attr:`ActionSets.reservation_levels`; the low-level provider agent of each medium chooses an
on-demand level f from :attr:`ActionSets.ondemand_levels`. A decision is then built from the twin's
planning instance (its forecast and the epoch's key rates, the same one the stochastic program sees):

- routes: in each weather pattern, the i-th shortest simple path by length over the links up in
  that pattern (the last one if fewer exist; none if the request is cut off there);
- reservation: on every link l of a request's clear-sky route, ℓ·k̄ of its forecast mean demand k̄
  turned into wavelengths by the network's own rule (P = ceil(ℓ·k̄/K_l) QKD links, 3 wavelengths
  each, and their KM wavelengths; ``physical.wavelengths``), summed over requests and capped at the
  medium's reservable capacity; its first-stage cost is Σ price·reserved (Kaewpuang Table I prices,
  per planning epoch);
- on-demand capacity: f times the medium's on-demand capacity on each of its links.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import networkx as nx

from physical.wavelengths import QKD_WAVELENGTHS_PER_LINK, km_wavelengths_needed, qkd_links_needed
from twin.qkd.instance import DOWN_MEDIA, WEATHERS, QkdInstance
from twin.qkd.pricing import km_wavelength_price, qkd_wavelength_price


@dataclass(frozen=True)
class ActionSets:
    """The discrete choices of the agents.

    Args:
        reservation_levels: multiples of a request's forecast mean demand to reserve wavelengths for (–).
        ondemand_levels: fractions of a medium's on-demand capacity a provider makes available (–).
        k_routes: candidate routes per request (the k shortest by length).
    """

    reservation_levels: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5, 2.0)
    ondemand_levels: tuple[float, ...] = (0.0, 0.5, 1.0)
    k_routes: int = 2

    def __post_init__(self) -> None:
        if not self.reservation_levels or any(not (0.0 <= x <= 10.0) for x in self.reservation_levels):
            raise ValueError(f"reservation_levels must be non-empty and in [0, 10], got {self.reservation_levels}")
        if not self.ondemand_levels or any(not (0.0 <= x <= 1.0) for x in self.ondemand_levels):
            raise ValueError(f"ondemand_levels must be non-empty and in [0, 1], got {self.ondemand_levels}")
        if self.k_routes < 1:
            raise ValueError(f"k_routes must be >= 1, got {self.k_routes}")


@dataclass(frozen=True)
class PlanChoice:
    """The planning agent's choice: per request, a route index and a reservation level index."""

    route: Mapping[str, int]
    reservation: Mapping[str, int]


@dataclass(frozen=True)
class AgentDecision:
    """A complete QKD decision in the plan command's terms (what ``QkdPlanCommand`` carries).

    Args:
        routes: weather pattern → request → node list.
        reserved_qkd, reserved_km: link → reserved QKD / KM wavelengths.
        ondemand_capacity_qkd, ondemand_capacity_km: link → on-demand wavelengths available.
        first_stage_cost: Σ price·reserved over the links (cost units per planning epoch).
    """

    routes: dict[str, dict[str, tuple[str, ...]]]
    reserved_qkd: dict[str, int]
    reserved_km: dict[str, int]
    ondemand_capacity_qkd: dict[str, int]
    ondemand_capacity_km: dict[str, int]
    first_stage_cost: float


def candidate_routes(instance: QkdInstance, k: int) -> dict[str, dict[str, list[tuple[str, ...]]]]:
    """Per weather pattern and request, up to ``k`` shortest simple paths by length over the links up in that pattern."""
    out: dict[str, dict[str, list[tuple[str, ...]]]] = {}
    for pattern in WEATHERS:
        graph = nx.Graph()
        graph.add_weighted_edges_from((l.a, l.b, l.length_km) for l in instance.links if l.medium not in DOWN_MEDIA[pattern])
        out[pattern] = {}
        for request in instance.requests:
            try:
                paths = nx.shortest_simple_paths(graph, request.src, request.dst, weight="weight")
                out[pattern][request.name] = [tuple(p) for p in itertools.islice(paths, k)]
            except (nx.NetworkXNoPath, nx.NodeNotFound):
                out[pattern][request.name] = []
    return out


def build_decision(network: QkdInstance, instance: QkdInstance, sets: ActionSets, plan: PlanChoice, ondemand: Mapping[str, int],
                   mean_demand_bps: Mapping[str, float]) -> AgentDecision:
    """The decision of a planning choice and the providers' on-demand level indices (module docstring).

    Args:
        network: the QKD network (every link, media and prices).
        instance: the twin's planning instance of the epoch (the links with key in it and their key rates).
        sets: the action sets the indices refer to.
        plan: the planning agent's route and reservation indices per request.
        ondemand: medium → on-demand level index (a medium not given: full capacity).
        mean_demand_bps: request → the twin's forecast mean demand (bit/s).
    """
    candidates = candidate_routes(instance, sets.k_routes)
    routes = {pattern: {} for pattern in WEATHERS}
    for pattern in WEATHERS:
        for name, paths in candidates[pattern].items():
            if paths:
                routes[pattern][name] = paths[min(plan.route.get(name, 0), len(paths) - 1)]
    link_of = {frozenset((l.a, l.b)): l for l in instance.links}
    network_links = list(network.links)
    qkd = {l.name: 0 for l in network_links}
    km = {l.name: 0 for l in network_links}
    km_per_link = network.planning.km_per_qkd_link
    for name, route in routes["clear"].items():
        level = sets.reservation_levels[plan.reservation.get(name, 0)]
        demand = level * mean_demand_bps.get(name, 0.0)
        if demand <= 0.0:
            continue
        for pair in zip(route[:-1], route[1:]):
            link = link_of[frozenset(pair)]
            parallel = qkd_links_needed(demand, instance.key_rate_bps(link))
            qkd[link.name] += QKD_WAVELENGTHS_PER_LINK * parallel
            km[link.name] += km_wavelengths_needed(parallel, km_per_link)
    cost = 0.0
    for link in network_links:
        medium = network.media[link.medium]
        qkd[link.name] = min(qkd[link.name], medium.capacity_qkd)
        km[link.name] = min(km[link.name], medium.capacity_km)
        cost += qkd[link.name] * qkd_wavelength_price(link, medium) + km[link.name] * km_wavelength_price(link, medium)
    fractions = {m: sets.ondemand_levels[ondemand[m]] if m in ondemand else 1.0 for m in network.media}
    return AgentDecision(
        routes=routes,
        reserved_qkd={n: q for n, q in qkd.items() if q},
        reserved_km={n: k for n, k in km.items() if k},
        ondemand_capacity_qkd={l.name: int(math.floor(fractions[l.medium] * network.media[l.medium].ondemand_capacity_qkd))
                               for l in network_links},
        ondemand_capacity_km={l.name: int(math.floor(fractions[l.medium] * network.media[l.medium].ondemand_capacity_km))
                              for l in network_links},
        first_stage_cost=cost,
    )


def media_of(instance: QkdInstance) -> tuple[str, ...]:
    """The media the network's links use, in the instance's media order (one provider agent each)."""
    used = {l.medium for l in instance.links}
    return tuple(m for m in instance.media if m in used)


def requests_of(instance: QkdInstance) -> tuple[str, ...]:
    """The request names, in the network file's order."""
    return tuple(r.name for r in instance.requests)


def plan_choice(requests: Sequence[str], routes: Sequence[int], reservations: Sequence[int]) -> PlanChoice:
    """A :class:`PlanChoice` from index vectors in request order."""
    return PlanChoice(dict(zip(requests, map(int, routes))), dict(zip(requests, map(int, reservations))))
