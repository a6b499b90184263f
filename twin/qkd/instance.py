"""A QKD planning instance (Kaewpuang et al. / Xu et al.): media, nodes, links, requests, scenarios.

A TOML file (``scenarios/qkd/*.toml``) with one table per medium, the planning factors, and arrays
of tables for nodes, links, requests and scenarios. Every key, its type, unit, default and allowed
range is declared once in ``FIELDS`` below; the loader validates against it and
``docs/qkd-instances.md`` is generated from it (``python -m twin.qkd.docs``, kept in sync by a test).
Short example::

    [media.fiber]                  # one table per medium: fiber, uav, satellite
    span_km = 160
    key_rate_bps = 15000
    capacity_qkd = 150
    capacity_km = 30
    ondemand_capacity_qkd = 150
    ondemand_capacity_km = 30
    cost = { tx = 1500, rx = 2250, lkm = 1200, si = 150, mux = 300, channel_per_km = 1 }

    [planning]
    ondemand_factor = 2.0

    [[nodes]]
    name = "A"
    kind = "ground"

    [[links]]
    a = "A"
    b = "B"
    medium = "fiber"
    length_km = 100
    key_rate_bps = 2.5e5           # optional: this link's K (default: its medium's key_rate_bps)

    [[requests]]
    name = "r1"
    src = "A"
    dst = "B"

    [[scenarios]]
    probability = 1.0
    weather = "clear"
    demand_bps = { r1 = 2e4 }

A request missing from a scenario's ``demand_bps`` has zero key demand there (it still needs its
key-management wavelength on every link of its route). Links are undirected. A cloudy scenario
takes the links of every free-space optical medium (``physical.weather.OPTICAL_MEDIA``: satellite
and UAV) down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Mapping

from physical.weather import OPTICAL_MEDIA
from common.errors import InputError
from common.input_files import read_toml

MEDIA: Final = ("fiber", "uav", "satellite")  #: transmission media
NODE_KINDS: Final = ("ground", "uav", "satellite")  #: node kinds
WEATHERS: Final = ("clear", "cloudy")  #: weather patterns of a scenario
#: media whose links are down under each weather (clouds block every free-space optical link; one
#: rule with the physics and the QKD network: physical/weather.py)
DOWN_MEDIA: Final = {"clear": frozenset(), "cloudy": frozenset(OPTICAL_MEDIA)}
PROBABILITY_TOLERANCE: Final = 1e-6  #: allowed |Σ p_ω − 1|
COST_KEYS: Final = ("tx", "rx", "lkm", "si", "mux", "channel_per_km")  #: Table I component costs
MAX_WAVELENGTH_PRICE: Final = 1e12  #: largest reservation or on-demand price of one wavelength (cost units)


@dataclass(frozen=True)
class Field:
    """One key of an instance table: its table, type, unit, default (None: required), range and meaning.

    ``kind`` is ``number``, ``integer``, ``bool``, ``name``, ``choice``, ``cost`` (a table of the
    ``COST_KEYS``) or ``rates`` (request name → bit/s). Numbers lie in [low, high] (``low_open``:
    (low, high]); integers in [low, high].
    """

    table: str
    key: str
    kind: str
    doc: str
    unit: str = ""
    default: object = None
    low: float = 0.0
    high: float = math.inf
    low_open: bool = False
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is None

    def allowed(self) -> str:
        """The allowed values, as the docs and error messages print them."""
        if self.kind in ("number", "integer", "cost", "rates"):
            lo = "(" if self.low_open else "["
            return f"{lo}{_number_text(self.low)}, {_number_text(self.high)}]"
        if self.kind == "choice":
            return ", ".join(self.choices)
        if self.kind == "bool":
            return "true, false"
        return "non-empty string"


def _number_text(x: float) -> str:
    """``x`` for a range: whole numbers below 1e7 without an exponent."""
    return f"{int(x)}" if float(x).is_integer() and abs(x) < 1e7 else f"{x:g}"


#: every key of an instance file; ``media.<m>`` stands for each of ``media.fiber``, ``media.uav``, ``media.satellite``
FIELDS: Final[tuple[Field, ...]] = (
    Field("media.<m>", "span_km", "number", "Θ, MDI-QKD span: a link of length e has ceil(e/Θ) segments (component counts, prices)",
          "km", low=1e-3, high=1e5),
    Field("media.<m>", "key_rate_bps", "number", "K, key rate one QKD link of this medium delivers (the fallback for links without their own)",
          "bit/s", low=1e-3, high=1e12),
    Field("media.<m>", "capacity_qkd", "integer", "reservable QKD wavelengths per link", high=1e6),
    Field("media.<m>", "capacity_km", "integer", "reservable key-management (KM) wavelengths per link", high=1e6),
    Field("media.<m>", "ondemand_capacity_qkd", "integer", "on-demand QKD wavelengths per link and scenario", high=1e6),
    Field("media.<m>", "ondemand_capacity_km", "integer", "on-demand KM wavelengths per link and scenario", high=1e6),
    Field("media.<m>", "cost", "cost", "Table I component prices: { tx, rx, lkm, si, mux, channel_per_km } (channel per km of link)",
          "cost units", high=1e9),
    Field("planning", "ondemand_factor", "number", "γ: an on-demand wavelength costs γ × its reservation price", default=2.0, high=1e3),
    Field("planning", "utilisation_factor", "number", "β: using a reserved wavelength costs β × its price", default=0.0, high=1e3),
    Field("planning", "km_per_qkd_link", "bool", "KM wavelengths per request and route link: false = 1 (Kaewpuang eq. 6), "
          "true = one per parallel QKD link, P_f(ω)·W_kml (eq. 35)", default=False),
    Field("nodes[]", "name", "name", "node name (unique)"),
    Field("nodes[]", "kind", "choice", "node kind", choices=NODE_KINDS),
    Field("links[]", "a", "name", "one end (a node name)"),
    Field("links[]", "b", "name", "the other end (a node name; one link per pair)"),
    Field("links[]", "medium", "choice", "medium; needs a [media.<m>] table", choices=MEDIA),
    Field("links[]", "length_km", "number", "link length (fiber route length; slant range for satellite links)", "km",
          low=0.0, high=1e5, low_open=True),
    Field("links[]", "key_rate_bps", "number", "this link's K, key rate of one QKD link (default: the medium's key_rate_bps)",
          "bit/s", default="medium", low=1e-3, high=1e12),
    Field("requests[]", "name", "name", "request name (unique)"),
    Field("requests[]", "src", "name", "source node"),
    Field("requests[]", "dst", "name", "destination node (≠ src)"),
    Field("scenarios[]", "name", "name", "scenario name (unique)", default="s<index>"),
    Field("scenarios[]", "probability", "number", "probability; all scenarios sum to 1 within 1e-6", high=1.0),
    Field("scenarios[]", "weather", "choice", "weather pattern; cloudy takes every optical (satellite, UAV) link down", choices=WEATHERS),
    Field("scenarios[]", "demand_bps", "rates", "key-rate demand per request name (missing: 0)", "bit/s", high=1e12),
)


def _fields(table: str) -> dict[str, Field]:
    return {f.key: f for f in FIELDS if f.table == table}


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
    """Second-stage price factors (–): on-demand and utilisation cost relative to the reservation price;
    ``km_per_qkd_link``: one KM wavelength per parallel QKD link (Kaewpuang eq. 35) instead of one per
    request and route link (eq. 6)."""

    ondemand_factor: float = 2.0
    utilisation_factor: float = 0.0
    km_per_qkd_link: bool = False


@dataclass(frozen=True)
class Node:
    """A QKD node: name and kind (ground, uav, satellite)."""

    name: str
    kind: str


@dataclass(frozen=True)
class Link:
    """An undirected QKD link between nodes ``a`` and ``b`` over ``medium``, ``length_km`` long (km);
    ``key_rate_bps``: this link's key rate per QKD link (bit/s), or None for the medium's."""

    a: str
    b: str
    medium: str
    length_km: float
    key_rate_bps: float | None = None

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

    def key_rate_bps(self, link: Link) -> float:
        """K of ``link``: its own key rate per QKD link, else its medium's (bit/s)."""
        return link.key_rate_bps if link.key_rate_bps is not None else self.media[link.medium].key_rate_bps

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

    def keys(self, table: Mapping[str, Any], field: str, fields: Mapping[str, Field]) -> None:
        for key, spec in fields.items():
            if spec.required and key not in table:
                raise self.fail(f"{field}.{key}", "missing")
        unknown = sorted(set(table) - set(fields))
        if unknown:
            raise self.fail(f"{field}.{unknown[0]}", f"unknown key (allowed: {', '.join(fields)})")

    def number(self, value: Any, field: str, spec: Field) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(field, f"expected a number, got {value!r}")
        x = float(value)
        below = x <= spec.low if spec.low_open else x < spec.low
        if not math.isfinite(x) or below or x > spec.high:
            unit = f" {spec.unit}" if spec.unit else ""
            raise self.fail(field, f"must be a finite number in {spec.allowed()}{unit}, got {value!r}")
        return x

    def integer(self, value: Any, field: str, spec: Field) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not spec.low <= value <= spec.high:
            raise self.fail(field, f"expected an integer in {spec.allowed()}, got {value!r}")
        return int(value)

    def name(self, value: Any, field: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, f"expected a non-empty string, got {value!r}")
        return value

    def choice(self, value: Any, field: str, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            raise self.fail(field, f"unknown value {value!r} (allowed: {', '.join(allowed)})")
        return value

    def value(self, table: Mapping[str, Any], field: str, spec: Field) -> Any:
        """``table[spec.key]`` validated against ``spec`` (its default if absent and optional)."""
        where = f"{field}.{spec.key}"
        if spec.key not in table:
            return spec.default
        raw = table[spec.key]
        if spec.kind == "number":
            return self.number(raw, where, spec)
        if spec.kind == "integer":
            return self.integer(raw, where, spec)
        if spec.kind == "bool":
            if not isinstance(raw, bool):
                raise self.fail(where, f"expected true or false, got {raw!r}")
            return raw
        if spec.kind == "choice":
            return self.choice(raw, where, spec.choices)
        if spec.kind == "name":
            return self.name(raw, where)
        raise AssertionError(spec.kind)  # cost and rates are read by their callers

    def array(self, data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"expected a non-empty array of tables [[{key}]]")
        return [self.table(item, f"{key}[{i}]") for i, item in enumerate(value)]

    def medium(self, name: str, table: Mapping[str, Any]) -> Medium:
        field = f"media.{name}"
        fields = _fields("media.<m>")
        self.keys(table, field, fields)
        cost_table = self.table(table["cost"], f"{field}.cost")
        self.keys(cost_table, f"{field}.cost", {k: fields["cost"] for k in COST_KEYS})
        cost = ComponentCosts(**{k: self.number(cost_table[k], f"{field}.cost.{k}", fields["cost"]) for k in COST_KEYS})
        values = {key: self.value(table, field, spec) for key, spec in fields.items() if key != "cost"}
        return Medium(name=name, cost=cost, **values)

    def instance(self, data: Mapping[str, Any]) -> QkdInstance:
        data = self.table(data, "<top>")
        top = {"media": None, "nodes": None, "links": None, "requests": None, "scenarios": None, "planning": "optional"}
        for key, optional in top.items():
            if optional is None and key not in data:
                raise self.fail(f"<top>.{key}", "missing")
        unknown = sorted(set(data) - set(top))
        if unknown:
            raise self.fail(f"<top>.{unknown[0]}", f"unknown key (allowed: {', '.join(top)})")
        media_table = self.table(data["media"], "media")
        media = {}
        for name, table in media_table.items():
            self.choice(name, f"media.{name}", MEDIA)
            media[name] = self.medium(name, self.table(table, f"media.{name}"))
        planning_table = self.table(data.get("planning", {}), "planning")
        planning_fields = _fields("planning")
        self.keys(planning_table, "planning", planning_fields)
        planning = Planning(**{key: self.value(planning_table, "planning", spec) for key, spec in planning_fields.items()})
        nodes: list[Node] = []
        node_fields = _fields("nodes[]")
        for i, item in enumerate(self.array(data, "nodes")):
            self.keys(item, f"nodes[{i}]", node_fields)
            node = Node(**{key: self.value(item, f"nodes[{i}]", spec) for key, spec in node_fields.items()})
            if any(n.name == node.name for n in nodes):
                raise self.fail(f"nodes[{i}].name", f"duplicate node {node.name!r}")
            nodes.append(node)
        names = {n.name for n in nodes}
        links: list[Link] = []
        pairs: set[frozenset[str]] = set()
        link_fields = _fields("links[]")
        for i, item in enumerate(self.array(data, "links")):
            field = f"links[{i}]"
            self.keys(item, field, link_fields)
            a, b = (self.name(item[k], f"{field}.{k}") for k in ("a", "b"))
            for key, node in (("a", a), ("b", b)):
                if node not in names:
                    raise self.fail(f"{field}.{key}", f"unknown node {node!r}")
            if a == b:
                raise self.fail(f"{field}.b", f"a link must join two different nodes, got {a!r} twice")
            if frozenset((a, b)) in pairs:
                raise self.fail(field, f"duplicate link between {a!r} and {b!r}")
            pairs.add(frozenset((a, b)))
            medium = self.value(item, field, link_fields["medium"])
            if medium not in media:
                raise self.fail(f"{field}.medium", f"medium {medium!r} has no [media.{medium}] table")
            rate = self.value(item, field, link_fields["key_rate_bps"]) if "key_rate_bps" in item else None
            link = Link(a, b, medium, self.value(item, field, link_fields["length_km"]), rate)
            self._check_prices(link, media[medium], planning, field)
            links.append(link)
        requests: list[Request] = []
        request_fields = _fields("requests[]")
        for i, item in enumerate(self.array(data, "requests")):
            field = f"requests[{i}]"
            self.keys(item, field, request_fields)
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
        scenario_fields = _fields("scenarios[]")
        for i, item in enumerate(self.array(data, "scenarios")):
            field = f"scenarios[{i}]"
            self.keys(item, field, scenario_fields)
            name = self.name(item.get("name", f"s{i}"), f"{field}.name")
            if any(s.name == name for s in scenarios):
                raise self.fail(f"{field}.name", f"duplicate scenario {name!r}")
            demand_table = self.table(item["demand_bps"], f"{field}.demand_bps")
            demand = {}
            for req, rate in demand_table.items():
                if req not in request_names:
                    raise self.fail(f"{field}.demand_bps.{req}", f"unknown request {req!r}")
                demand[req] = self.number(rate, f"{field}.demand_bps.{req}", scenario_fields["demand_bps"])
            scenarios.append(Scenario(
                name=name,
                probability=self.value(item, field, scenario_fields["probability"]),
                weather=self.value(item, field, scenario_fields["weather"]),
                demand_bps=demand,
            ))
        total = math.fsum(s.probability for s in scenarios)
        if abs(total - 1.0) > PROBABILITY_TOLERANCE:
            raise self.fail("scenarios.probability", f"probabilities sum to {total:.9g}, must be 1 within {PROBABILITY_TOLERANCE:g}")
        return QkdInstance(media, planning, tuple(nodes), tuple(links), tuple(requests), tuple(scenarios), self.source)

    def _check_prices(self, link: Link, medium: Medium, planning: Planning, field: str) -> None:
        """Refuse a link whose wavelength prices (× the second-stage factors) exceed ``MAX_WAVELENGTH_PRICE``:
        such numbers make the MILP meaningless (HiGHS treats costs ≥ 1e20 as infinite)."""
        from twin.qkd.pricing import km_wavelength_price, qkd_wavelength_price

        factor = max(1.0, planning.ondemand_factor, planning.utilisation_factor)
        for kind, price in (("QKD", qkd_wavelength_price(link, medium)), ("KM", km_wavelength_price(link, medium))):
            if not price * factor <= MAX_WAVELENGTH_PRICE:
                raise self.fail(field, f"a {kind} wavelength on this link would cost {price * factor:.3g} cost units "
                                       f"(price × max(1, ondemand_factor, utilisation_factor)); at most "
                                       f"{MAX_WAVELENGTH_PRICE:g} allowed: lower length_km, the [media.{medium.name}] "
                                       f"costs or the [planning] factors, or raise span_km")
