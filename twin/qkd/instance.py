"""A QKD planning instance (Kaewpuang et al. / Xu et al.): media, nodes, links, requests, scenarios.

TOML layout (all lengths in km, rates in bit/s, costs in cost units)::

    [media.fiber]                  # one table per medium: fiber, uav, satellite
    span_km = 160                  # Θ, MDI-QKD span: a link of length e needs ceil(e/Θ) segments
    key_rate_bps = 1e4             # K_m, key rate one QKD link delivers
    capacity_qkd = 150             # reservable QKD wavelengths per link
    capacity_km = 30               # reservable key-management wavelengths per link
    ondemand_capacity_qkd = 150    # on-demand QKD wavelengths per link and scenario
    ondemand_capacity_km = 30
    cost = {tx = 1500, rx = 2250, lkm = 1200, si = 150, mux = 300, channel_per_km = 1}

    [planning]
    ondemand_factor = 2.0          # on-demand price = factor × reservation price
    utilisation_factor = 0.0       # cost of using a reserved wavelength = factor × price

    [[nodes]]
    name = "A"
    kind = "ground"                # ground | uav | satellite

    [[links]]
    a = "A"
    b = "B"
    medium = "fiber"               # a medium with a [media.*] table
    length_km = 100

    [[requests]]
    name = "r1"
    src = "A"
    dst = "B"

    [[scenarios]]
    name = "clear-low"             # optional, default "s<index>"
    probability = 0.5              # all scenarios sum to 1 within 1e-6
    weather = "clear"              # clear | cloudy (cloudy: satellite links down)
    demand_bps = { r1 = 2e4 }

A request missing from a scenario's ``demand_bps`` has zero key demand there (it still needs its
key-management wavelength on every link of its route). Links are undirected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Mapping

from sagin_twin.errors import InputError
from sagin_twin.input_files import read_toml

MEDIA: Final = ("fiber", "uav", "satellite")  #: transmission media
NODE_KINDS: Final = ("ground", "uav", "satellite")  #: node kinds
WEATHERS: Final = ("clear", "cloudy")  #: weather patterns of a scenario
#: media whose links are down under each weather (a cloudy sky blocks the satellite's optical links)
DOWN_MEDIA: Final = {"clear": frozenset(), "cloudy": frozenset({"satellite"})}
PROBABILITY_TOLERANCE: Final = 1e-6  #: allowed |Σ p_ω − 1|
COST_KEYS: Final = ("tx", "rx", "lkm", "si", "mux", "channel_per_km")  #: Table I component costs
MEDIUM_KEYS: Final = ("span_km", "key_rate_bps", "capacity_qkd", "capacity_km", "ondemand_capacity_qkd",
                      "ondemand_capacity_km", "cost")


@dataclass(frozen=True)
class ComponentCosts:
    """Table I component prices of one medium (cost units; channel per km of link)."""

    tx: float
    rx: float
    lkm: float
    si: float
    mux: float
    channel_per_km: float


@dataclass(frozen=True)
class Medium:
    """A transmission medium's MDI-QKD span Θ (km), key rate per QKD link K (bit/s), capacities (wavelengths) and costs."""

    name: str
    span_km: float
    key_rate_bps: float
    capacity_qkd: int
    capacity_km: int
    ondemand_capacity_qkd: int
    ondemand_capacity_km: int
    cost: ComponentCosts


@dataclass(frozen=True)
class Planning:
    """Second-stage price factors (–): on-demand and utilisation cost relative to the reservation price."""

    ondemand_factor: float = 2.0
    utilisation_factor: float = 0.0


@dataclass(frozen=True)
class Node:
    """A QKD node: name and kind (ground, uav, satellite)."""

    name: str
    kind: str


@dataclass(frozen=True)
class Link:
    """An undirected QKD link between nodes ``a`` and ``b`` over ``medium``, ``length_km`` long (km)."""

    a: str
    b: str
    medium: str
    length_km: float

    @property
    def name(self) -> str:
        """``a-b``, the key used in reports."""
        return f"{self.a}-{self.b}"


@dataclass(frozen=True)
class Request:
    """A QKD service request between nodes ``src`` and ``dst``."""

    name: str
    src: str
    dst: str


@dataclass(frozen=True)
class Scenario:
    """A second-stage scenario ω: probability, weather and key demand per request (bit/s)."""

    name: str
    probability: float
    weather: str
    demand_bps: Mapping[str, float]

    def demand(self, request: str) -> float:
        """Key-rate demand of ``request`` (bit/s); 0 if not listed."""
        return float(self.demand_bps.get(request, 0.0))

    def down_media(self) -> frozenset[str]:
        """Media whose links carry nothing in this scenario."""
        return DOWN_MEDIA[self.weather]


@dataclass(frozen=True)
class QkdInstance:
    """A validated QKD planning instance (see the module docstring for the TOML layout)."""

    media: Mapping[str, Medium]
    planning: Planning
    nodes: tuple[Node, ...]
    links: tuple[Link, ...]
    requests: tuple[Request, ...]
    scenarios: tuple[Scenario, ...]
    source: str = "<memory>"

    @classmethod
    def from_toml(cls, path: str | Path) -> "QkdInstance":
        """Load and validate a TOML instance; bad content raises InputError naming the file and field."""
        path = Path(path)
        return cls.from_mapping(read_toml(path, "QKD network"), str(path))  # the project's one guarded TOML reader

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "<memory>") -> "QkdInstance":
        """Validate a parsed mapping (same layout as the TOML file)."""
        return _Validator(source).instance(data)

    def with_scenarios(self, scenarios: tuple[Scenario, ...]) -> "QkdInstance":
        """A copy with other scenarios (probabilities must sum to 1)."""
        total = sum(s.probability for s in scenarios)
        if abs(total - 1.0) > PROBABILITY_TOLERANCE:
            raise ValueError(f"scenario probabilities sum to {total}, not 1")
        return QkdInstance(self.media, self.planning, self.nodes, self.links, self.requests, tuple(scenarios), self.source)

    def link_named(self, name: str) -> Link:
        """The link whose ``name`` is ``a-b`` (or ``b-a``)."""
        for link in self.links:
            if name in (link.name, f"{link.b}-{link.a}"):
                return link
        raise KeyError(name)


class _Validator:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, message: str) -> InputError:
        return InputError(message, source=self.source, field=field)

    def table(self, value: Any, field: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(field, f"expected a table, got {type(value).__name__}")
        return value

    def keys(self, table: Mapping[str, Any], field: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
        for key in required:
            if key not in table:
                raise self.fail(f"{field}.{key}", "missing")
        unknown = sorted(set(table) - set(required) - set(optional))
        if unknown:
            raise self.fail(f"{field}.{unknown[0]}", f"unknown key (allowed: {', '.join(required + optional)})")

    def number(self, value: Any, field: str, *, minimum: float = 0.0, strict: bool = False,
               maximum: float = math.inf) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(field, f"expected a number, got {value!r}")
        x = float(value)
        below = x <= minimum if strict else x < minimum
        if not math.isfinite(x) or below or x > maximum:
            lo = f"> {minimum:g}" if strict else f">= {minimum:g}"
            hi = f" and <= {maximum:g}" if math.isfinite(maximum) else ""
            raise self.fail(field, f"must be finite, {lo}{hi}, got {value!r}")
        return x

    def integer(self, value: Any, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(field, f"expected an integer >= 0, got {value!r}")
        return int(value)

    def name(self, value: Any, field: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, f"expected a non-empty string, got {value!r}")
        return value

    def choice(self, value: Any, field: str, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            raise self.fail(field, f"unknown value {value!r} (allowed: {', '.join(allowed)})")
        return value

    def array(self, data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"expected a non-empty array of tables [[{key}]]")
        return [self.table(item, f"{key}[{i}]") for i, item in enumerate(value)]

    def medium(self, name: str, table: Mapping[str, Any]) -> Medium:
        field = f"media.{name}"
        self.keys(table, field, MEDIUM_KEYS)
        cost_table = self.table(table["cost"], f"{field}.cost")
        self.keys(cost_table, f"{field}.cost", COST_KEYS)
        cost = ComponentCosts(**{k: self.number(cost_table[k], f"{field}.cost.{k}") for k in COST_KEYS})
        return Medium(
            name=name,
            span_km=self.number(table["span_km"], f"{field}.span_km", strict=True),
            key_rate_bps=self.number(table["key_rate_bps"], f"{field}.key_rate_bps", strict=True),
            capacity_qkd=self.integer(table["capacity_qkd"], f"{field}.capacity_qkd"),
            capacity_km=self.integer(table["capacity_km"], f"{field}.capacity_km"),
            ondemand_capacity_qkd=self.integer(table["ondemand_capacity_qkd"], f"{field}.ondemand_capacity_qkd"),
            ondemand_capacity_km=self.integer(table["ondemand_capacity_km"], f"{field}.ondemand_capacity_km"),
            cost=cost,
        )

    def instance(self, data: Mapping[str, Any]) -> QkdInstance:
        data = self.table(data, "<top>")
        self.keys(data, "<top>", ("media", "nodes", "links", "requests", "scenarios"), ("planning",))
        media_table = self.table(data["media"], "media")
        media = {}
        for name, table in media_table.items():
            self.choice(name, f"media.{name}", MEDIA)
            media[name] = self.medium(name, self.table(table, f"media.{name}"))
        planning_table = self.table(data.get("planning", {}), "planning")
        self.keys(planning_table, "planning", (), ("ondemand_factor", "utilisation_factor"))
        planning = Planning(
            ondemand_factor=self.number(planning_table.get("ondemand_factor", Planning.ondemand_factor),
                                        "planning.ondemand_factor"),
            utilisation_factor=self.number(planning_table.get("utilisation_factor", Planning.utilisation_factor),
                                           "planning.utilisation_factor"),
        )
        nodes: list[Node] = []
        for i, item in enumerate(self.array(data, "nodes")):
            self.keys(item, f"nodes[{i}]", ("name", "kind"))
            node = Node(self.name(item["name"], f"nodes[{i}].name"), self.choice(item["kind"], f"nodes[{i}].kind", NODE_KINDS))
            if any(n.name == node.name for n in nodes):
                raise self.fail(f"nodes[{i}].name", f"duplicate node {node.name!r}")
            nodes.append(node)
        names = {n.name for n in nodes}
        links: list[Link] = []
        pairs: set[frozenset[str]] = set()
        for i, item in enumerate(self.array(data, "links")):
            field = f"links[{i}]"
            self.keys(item, field, ("a", "b", "medium", "length_km"))
            a, b = (self.name(item[k], f"{field}.{k}") for k in ("a", "b"))
            for key, node in (("a", a), ("b", b)):
                if node not in names:
                    raise self.fail(f"{field}.{key}", f"unknown node {node!r}")
            if a == b:
                raise self.fail(f"{field}.b", f"a link must join two different nodes, got {a!r} twice")
            if frozenset((a, b)) in pairs:
                raise self.fail(field, f"duplicate link between {a!r} and {b!r}")
            pairs.add(frozenset((a, b)))
            medium = self.choice(item["medium"], f"{field}.medium", MEDIA)
            if medium not in media:
                raise self.fail(f"{field}.medium", f"medium {medium!r} has no [media.{medium}] table")
            links.append(Link(a, b, medium, self.number(item["length_km"], f"{field}.length_km", strict=True)))
        requests: list[Request] = []
        for i, item in enumerate(self.array(data, "requests")):
            field = f"requests[{i}]"
            self.keys(item, field, ("name", "src", "dst"))
            req = Request(*(self.name(item[k], f"{field}.{k}") for k in ("name", "src", "dst")))
            for key in ("src", "dst"):
                if getattr(req, key) not in names:
                    raise self.fail(f"{field}.{key}", f"unknown node {getattr(req, key)!r}")
            if req.src == req.dst:
                raise self.fail(f"{field}.dst", f"must differ from src {req.src!r}")
            if any(r.name == req.name for r in requests):
                raise self.fail(f"{field}.name", f"duplicate request {req.name!r}")
            requests.append(req)
        request_names = {r.name for r in requests}
        scenarios: list[Scenario] = []
        for i, item in enumerate(self.array(data, "scenarios")):
            field = f"scenarios[{i}]"
            self.keys(item, field, ("probability", "weather", "demand_bps"), ("name",))
            name = self.name(item.get("name", f"s{i}"), f"{field}.name")
            if any(s.name == name for s in scenarios):
                raise self.fail(f"{field}.name", f"duplicate scenario {name!r}")
            demand_table = self.table(item["demand_bps"], f"{field}.demand_bps")
            demand = {}
            for req, rate in demand_table.items():
                if req not in request_names:
                    raise self.fail(f"{field}.demand_bps.{req}", f"unknown request {req!r}")
                demand[req] = self.number(rate, f"{field}.demand_bps.{req}")
            scenarios.append(Scenario(
                name=name,
                probability=self.number(item["probability"], f"{field}.probability", maximum=1.0),
                weather=self.choice(item["weather"], f"{field}.weather", WEATHERS),
                demand_bps=demand,
            ))
        total = math.fsum(s.probability for s in scenarios)
        if abs(total - 1.0) > PROBABILITY_TOLERANCE:
            raise self.fail("scenarios.probability", f"probabilities sum to {total:.9g}, must be 1 within {PROBABILITY_TOLERANCE:g}")
        return QkdInstance(media, planning, tuple(nodes), tuple(links), tuple(requests), tuple(scenarios), self.source)
