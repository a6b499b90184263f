"""Instance sweeps: one QKD planning instance swept over its fields, random draws and solver options.

A sweep file with ``instance = "qkd/nsfnet.toml"`` (looked up like a scenario sweep's ``base``)
solves that instance once per run with :func:`twin.qkd.diagnosis.plan_with_diagnosis`, as
``sagin-twin plan-qkd`` does. Its parameters are dotted fields of the instance file —
``planning.ondemand_factor``, ``media.satellite.cost.tx``, ``links[3].length_km`` (an array entry by
its index) — validated by the instance loader, and two reserved tables whose fixed values come
from the sweep file's ``[draw]`` and ``[plan]`` sections:

- ``draw.*`` (:class:`DrawSection`): requests and scenarios drawn at random for each run
  (:mod:`twin.qkd.draws`) from the run's seed, so replicates (``sweep.seeds``) are independent draws.
  The seed depends on the sweep's seed, the point's ``draw.*`` values and the replicate only: points
  that differ in instance fields or solver options solve the same draws (common random numbers), so
  their difference is the parameter's effect, not the draw's.
- ``plan.*`` (:class:`PlanSection`): the solver options of ``plan-qkd`` (re-routing mode, MIP gap,
  time limit).

A run's identity (and so resuming) covers the instance file's content, its parameters, the draw
and solver settings, its replicate and its seed.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import InputError
from common.input_files import parse_toml, read_text
from scenarios.config import LIBRARY
from scenarios.schema import field_path_error, load_table, spec
from scenarios.workload import check_count
from sweeps.fields import SEGMENT, set_field
from sweeps.spec import points, run_seed
from twin.qkd.draws import CLOUDY_PROBABILITY, DEMAND_RANGE_BPS, DrawSpec, draw_instance, endpoints
from twin.qkd.instance import QkdInstance
from twin.qkd.plan import DEFAULT_MIP_REL_GAP, DEFAULT_REROUTE, DEFAULT_TIME_LIMIT_S, REROUTE_MODES, PlanOptions

FILE_KIND = "QKD network"  #: the instance file's kind for the guarded reader (size cap)
MAX_DRAWN_PAIRS = 100_000  #: largest drawn instance (requests × scenarios) accepted without --allow-large


@dataclass(frozen=True, kw_only=True)
class DrawSection:
    """``[draw]``: random requests and scenarios per run (0 keeps the instance's own)."""

    requests: int = spec(0, min=0, max=1_000, doc="requests drawn per run between ground/UAV nodes (0: keep the instance's)")
    scenarios: int = spec(0, min=0, max=10_000, doc="equiprobable scenarios drawn per run (0: keep the instance's)")
    cloudy_probability: float = spec(CLOUDY_PROBABILITY, min=0.0, max=1.0, doc="chance a drawn scenario is cloudy")
    demand_min_bps: float = spec(DEMAND_RANGE_BPS[0], min=0.0, min_exclusive=True, max=1e12, unit="bit/s",
                                 doc="low end of the log-uniform key demand per request")
    demand_max_bps: float = spec(DEMAND_RANGE_BPS[1], min=0.0, min_exclusive=True, max=1e12, unit="bit/s",
                                 doc="high end of the log-uniform key demand per request")

    def __post_init__(self) -> None:
        if self.requests and not self.scenarios:
            raise ValueError(f"requests = {self.requests} needs scenarios > 0: drawn requests get their demands from drawn scenarios")
        if self.demand_max_bps < self.demand_min_bps:
            raise ValueError(f"demand_max_bps = {self.demand_max_bps:g} is below demand_min_bps = {self.demand_min_bps:g}")

    @property
    def draw_spec(self) -> DrawSpec | None:
        """What to draw, or None when the instance is solved as it is."""
        return DrawSpec(**dataclasses.asdict(self)) if self.requests or self.scenarios else None


@dataclass(frozen=True, kw_only=True)
class PlanSection:
    """``[plan]``: the solver options of ``plan-qkd`` (same defaults)."""

    reroute: str = spec(DEFAULT_REROUTE, choices=REROUTE_MODES, doc="recourse routes: one backup per weather or per scenario")
    mip_rel_gap: float = spec(DEFAULT_MIP_REL_GAP, min=0.0, max=1.0, doc="relative MIP gap at which HiGHS stops, in [0, 1)")
    time_limit_s: float = spec(DEFAULT_TIME_LIMIT_S, min=0.0, min_exclusive=True, max=86_400.0, unit="s",
                               doc="solver time limit per run")

    def __post_init__(self) -> None:
        if self.mip_rel_gap >= 1.0:
            raise ValueError(f"mip_rel_gap must be below 1, got {self.mip_rel_gap!r}")

    @property
    def options(self) -> PlanOptions:
        return PlanOptions(reroute=self.reroute, mip_rel_gap=self.mip_rel_gap, time_limit_s=self.time_limit_s)


#: reserved parameter prefixes → the section they override
SECTIONS: dict[str, type] = {"draw": DrawSection, "plan": PlanSection}


@dataclass(frozen=True)
class InstanceRun:
    """One solve of an instance sweep: the instance file, the run's parameters, draws, options and seed."""

    index: int
    instance: str  #: path of the instance file; relative to the worker's shipped library when ``in_library``
    in_library: bool
    digest: str  #: crc32 of the file's text when the sweep started (a changed file is a different run)
    overrides: tuple[tuple[str, object], ...]  #: every parameter of the point (instance fields, draw.*, plan.*)
    draw: DrawSpec | None
    options: PlanOptions
    replicate: int
    seed: int

    @property
    def run_id(self) -> str:
        draw = dataclasses.asdict(self.draw) if self.draw else None
        payload = json.dumps([self.digest, list(self.overrides), draw, dataclasses.asdict(self.options), self.replicate, self.seed])
        return f"i{zlib.crc32(payload.encode()):08x}"

    @property
    def fields(self) -> tuple[tuple[str, object], ...]:
        """The parameters that are fields of the instance file."""
        return tuple((k, v) for k, v in self.overrides if k.split(".")[0] not in SECTIONS)


def _whole_table_error(table: dict, dotted: str) -> str | None:
    """Why ``dotted`` names a table or an array rather than one field of the instance, or None."""
    node: object = table
    for part in dotted.split("."):
        match = SEGMENT.match(part)
        node = node.get(match["key"]) if isinstance(node, dict) else None
        if match["index"] is not None and isinstance(node, list):
            node = node[int(match["index"])]
    if isinstance(node, dict):
        return f"names the whole table {dotted}; name one of its fields: {', '.join(f'{dotted}.{k}' for k in node)}"
    if isinstance(node, list):
        first = node[0] if node and isinstance(node[0], dict) else {"name": None}
        return f"names the whole array {dotted}; name a field of one entry, e.g. {dotted}[0].{next(iter(first))}"
    return None


def check_parameter(name: str, instance_table: dict, source: str) -> None:
    """A parameter names one field of the instance file, or one field of ``[draw]`` or ``[plan]``."""
    field = f"parameters.{name}"
    head, _, rest = name.partition(".")
    if head in SECTIONS:
        problem = field_path_error(SECTIONS[head], rest) if rest else (name, f"names the whole table [{name}]")
        if problem is not None:
            raise InputError(problem[1], source=source, field=field)
        return
    try:
        set_field(copy.deepcopy(instance_table), name, 0)
    except ValueError as exc:
        raise InputError(str(exc), source=source, field=field) from None
    problem = _whole_table_error(instance_table, name)
    if problem:
        raise InputError(problem, source=source, field=field)


def load_sections(table: dict, source: str) -> dict[str, dict]:
    """The ``[draw]`` and ``[plan]`` tables of a sweep file, validated on their own (absent: {})."""
    sections = {}
    for name, cls in SECTIONS.items():
        raw = table.get(name, {})
        load_table(cls, raw, source, name)
        sections[name] = raw
    return sections


def read_instance(path: Path) -> tuple[dict, str]:
    """(parsed table, crc32 of the text) of an instance file."""
    text = read_text(path, FILE_KIND)
    return parse_toml(text, str(path)), f"{zlib.crc32(text.encode()):08x}"


def instance_reference(path: Path) -> tuple[str, bool]:
    """How a worker finds the file: relative to its own shipped library if it is one, else by its absolute path."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(LIBRARY)), True
    except ValueError:
        return str(resolved), False


def instance_runs(sweep) -> list[InstanceRun]:
    """Every run of an instance sweep, in a fixed order, each point validated first (one-line errors
    naming the sweep file and the field): its instance fields by the instance loader, its draw and
    solver settings by their sections."""
    path = sweep.instance_path
    table, digest = read_instance(path)
    reference, in_library = instance_reference(path)
    s = sweep.section
    validated: dict[tuple, QkdInstance] = {}
    runs = []
    for point in points(sweep):
        label = f"{sweep.path} (parameters {', '.join(f'{k} = {v!r}' for k, v in point)})"
        settings = {name: dict(sweep.sections[name]) for name in SECTIONS}
        for name, value in point:
            head, _, rest = name.partition(".")
            if head in SECTIONS:
                settings[head][rest] = value
        draw = load_table(DrawSection, settings["draw"], label, "draw")
        options = load_table(PlanSection, settings["plan"], label, "plan").options
        probe = InstanceRun(0, reference, in_library, digest, point, draw.draw_spec, options, 0, 0)
        _check_replaced(draw, probe.fields, label)
        if probe.fields not in validated:
            validated[probe.fields] = with_fields(table, probe.fields, f"{label} applied to {path.name}")
        _check_draw(validated[probe.fields], draw, s.seeds, label, sweep.allow_large)
        for replicate in range(s.seeds):
            seed = run_seed(s.seed, tuple((k, v) for k, v in point if k.startswith("draw.")), replicate)
            runs.append(dataclasses.replace(probe, index=len(runs), replicate=replicate, seed=seed))
    return runs


def _check_replaced(draw: DrawSection, fields, label: str) -> None:
    """No parameter may set a field of the requests or scenarios the point's draws replace."""
    for name, _ in fields:
        for table, count in (("requests", draw.requests), ("scenarios", draw.scenarios)):
            if count and SEGMENT.match(name.split(".")[0])["key"] == table:
                raise InputError(f"draw.{table} = {count} replaces the instance's {table}; drop one of the two",
                                 source=label, field=f"parameters.{name}")


def _check_draw(instance: QkdInstance, draw: DrawSection, seeds: int, label: str, allow_large: bool) -> None:
    """The point's draws fit its instance and the job-size limit; replicates need draws."""
    if draw.draw_spec is None:
        if seeds > 1:
            raise InputError(f"{seeds} replicates of a point without draws would be the same solve {seeds} times: "
                             f"draw requests or scenarios ([draw] or draw.* parameters), or set seeds = 1",
                             source=label, field="sweep.seeds")
        return
    if draw.requests and len(endpoints(instance)) < 2:
        raise InputError(f"drawing requests needs at least two ground or UAV nodes; the instance has {len(endpoints(instance))}",
                         source=label, field="draw.requests")
    pairs = (draw.requests or len(instance.requests)) * draw.scenarios
    check_count(pairs, MAX_DRAWN_PAIRS, "request-scenario pairs", label, "draw.scenarios", allow_large,
                "draw fewer requests or scenarios")


def with_fields(table: dict, fields: tuple[tuple[str, object], ...], source: str) -> QkdInstance:
    """``table`` (a parsed instance file, left as it is) with ``fields`` set, validated by the instance loader."""
    table = copy.deepcopy(table)
    for name, value in fields:
        try:
            set_field(table, name, value)
        except ValueError as exc:
            raise InputError(str(exc), source=source, field=f"parameters.{name}") from None
    return QkdInstance.from_mapping(table, source)


def load_run_instance(run: InstanceRun) -> QkdInstance:
    """The run's instance (its fields set, then its draws from its seed), read from the file the sweep started with."""
    path = LIBRARY / run.instance if run.in_library else Path(run.instance)
    table, digest = read_instance(path)
    if digest != run.digest:
        raise InputError(f"the instance file differs from the one the sweep started with (crc32 {digest}, expected "
                         f"{run.digest}): give every worker the same file", source=str(path))
    label = f"{path} with " + ", ".join(f"{k} = {v!r}" for k, v in run.fields) if run.fields else str(path)
    instance = with_fields(table, run.fields, label)
    return instance if run.draw is None else draw_instance(instance, run.draw, np.random.default_rng(run.seed))
