"""Sweep files (TOML): what to vary, how many seeds, which metrics to keep.

```toml
[sweep]
base = "../scenarios/default.toml"   # a scenario, relative to this file (else in the shipped library) ...
# figure = "yin-fig2"                # ... or a paper figure (a solver study) ...
# instance = "qkd/nsfnet.toml"       # ... or a QKD planning instance (sweeps/instances.py: [draw], [plan])
seed = 7                             # root of every run's seed
seeds = 2                            # replicates per point (figure: channel draws per point)
combine = "cross"                    # "cross": every combination; "zip": the i-th values together
duration_s = 120.0                   # optional: override run.duration_s
metrics = ["achieved_min_mean_bps_hz", "gap_min_mean_bps_hz"]

[parameters]                         # dotted scenario (or instance) fields
"uav.power_dbw" = [0.0, 5.0, 10.0]
"links.decision.latency_s" = { start = 0.0, stop = 2.0, num = 5 }
```
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from common.errors import InputError
from common.input_files import read_text
from scenarios.config import LIBRARY, Scenario, read_toml
from scenarios.schema import field_path_error, load_table, spec
from scenarios.workload import MAX_SWEEP_RUNS, check_count
from sweeps.metrics import FIGURE_METRICS, INSTANCE_METRICS, SCENARIO_METRICS

#: scenario fields the sweep engine sets itself, so a parameter may not vary them: field → why
ENGINE_FIELDS = {"run.seed": "each run's seed is derived from sweep.seed, the point and the replicate; vary sweep.seeds instead"}


@dataclass(frozen=True, kw_only=True)
class SweepSection:
    base: str = spec("", doc="scenario file relative to the sweep file (scenario sweeps)")
    figure: str = spec("", doc="paper figure name, e.g. yin-fig2 (figure sweeps)")
    instance: str = spec("", doc="QKD planning instance relative to the sweep file (instance sweeps)")
    seed: int = spec(1, min=0, max=2**32 - 1, doc="root of every run's seed")
    seeds: int = spec(1, min=1, max=100_000, doc="replicates per point (figure sweeps: channel draws per point; instance sweeps: random draws)")
    combine: str = spec("cross", choices=("cross", "zip"), doc="combine parameter lists by cross product or position")
    duration_s: float = spec(0.0, min=0.0, max=7 * 86_400.0, unit="s", doc="override run.duration_s (0 = keep the scenario's)")
    metrics: tuple[str, ...] = spec((), doc="metrics to keep (default: all)")
    methods: tuple[str, ...] = spec((), doc="figure sweeps: precoding methods (default: the figure's)")
    keep_logs: bool = spec(False, doc="scenario sweeps: keep every run's event log under <out>/runs/")


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its section, the parameter values and where it came from."""

    section: SweepSection
    parameters: dict[str, tuple]
    path: Path
    allow_large: bool = False  #: the runs may exceed the job-size limits (--allow-large)
    sections: dict[str, dict] = field(default_factory=dict)  #: instance sweeps: the [draw] and [plan] tables

    @property
    def kind(self) -> str:
        """``scenario``, ``figure`` or ``instance``."""
        return "figure" if self.section.figure else "instance" if self.section.instance else "scenario"

    @property
    def metrics(self) -> tuple[str, ...]:
        return self.section.metrics or KIND_METRICS[self.kind]

    @property
    def base_path(self) -> Path:
        """The base scenario: relative to the sweep file, else a scenario of the shipped library."""
        return base_scenario(self.path, self.section.base)

    @property
    def instance_path(self) -> Path:
        """The QKD planning instance, found like the base scenario."""
        return base_scenario(self.path, self.section.instance)


KIND_METRICS: dict[str, tuple[str, ...]] = {"scenario": SCENARIO_METRICS, "figure": FIGURE_METRICS, "instance": INSTANCE_METRICS}
#: sweep-section fields that mean something only for some kinds: field → kinds
KIND_FIELDS: dict[str, tuple[str, ...]] = {"duration_s": ("scenario",), "keep_logs": ("scenario",), "methods": ("figure",)}


@dataclass(frozen=True)
class ScenarioRun:
    """One scenario run of a sweep: the base file, field overrides, seed and replicate."""

    index: int
    base: str
    overrides: tuple[tuple[str, object], ...]
    replicate: int
    seed: int
    duration_s: float
    log_dir: str = ""
    allow_large: bool = False  #: not part of the run's identity
    work_dir: str = ""  #: scratch folder for the log of a run whose log is not kept ("" = a temporary folder)
    digest: str = ""  #: :func:`scenario_digest` of the base when the sweep started (an edited base is a different run)

    @property
    def run_id(self) -> str:
        payload = json.dumps([self.base, self.digest, list(self.overrides), self.replicate, self.seed, self.duration_s])
        return f"r{zlib.crc32(payload.encode()):08x}"


def scenario_digest(base: Path) -> str:
    """crc32 (hex) of a base scenario's text and of every file it names (TLE, catalogue, traces, QKD network): a
    sweep resumed after any of them was edited runs again instead of keeping the old results."""
    from scenarios.config import load_scenario

    base = Path(base)
    crc = zlib.crc32(read_text(base, "scenario").encode())
    for _, entry in sorted(load_scenario(base, allow_large=True).input_files.items()):
        crc = zlib.crc32(Path(entry["path"]).read_bytes(), crc)
    return f"{crc:08x}"


def _values(name: str, raw, source: str) -> tuple:
    field = f"parameters.{name}"
    if isinstance(raw, list):
        if not raw:
            raise InputError("needs at least one value", source=source, field=field)
        return tuple(raw)
    if isinstance(raw, dict):
        extra = set(raw) - {"start", "stop", "num"}
        if extra or not {"start", "stop", "num"} <= set(raw):
            raise InputError("a grid is { start = a, stop = b, num = n }", source=source, field=field)
        if not isinstance(raw["num"], int) or isinstance(raw["num"], bool) or not 1 <= raw["num"] <= 10_000:
            raise InputError(f"num must be an integer in [1, 10000], got {raw['num']!r}", source=source, field=field)
        for key in ("start", "stop"):
            if isinstance(raw[key], bool) or not isinstance(raw[key], (int, float)):
                raise InputError(f"{key} must be a number", source=source, field=field)
        return tuple(float(v) for v in np.linspace(raw["start"], raw["stop"], raw["num"]))
    raise InputError("must be a list of values or a grid table { start, stop, num }", source=source, field=field)


def base_scenario(sweep_path: Path, base: str) -> Path:
    """``base`` (a scenario or an instance) next to the sweep file if it exists there, else in the shipped library (``scenarios/``)."""
    local = sweep_path.parent / base
    if local.is_file() or Path(base).is_absolute():
        return local
    shipped = LIBRARY / base
    return shipped if shipped.is_file() else local


def figure_solve_count(figure: str, draws: int, methods: tuple[str, ...] | list[str] | None = None) -> int:
    """How many solves a Monte-Carlo figure takes: values × Δ lines × methods × draws for a Yin figure,
    ages × variants × draws for twin-value (the studies' ``tasks`` without building them)."""
    from studies import twin_value, yin

    if figure == twin_value.NAME:
        return len(twin_value.AGES_S) * len(tuple(methods) if methods else twin_value.VARIANTS) * draws
    spec_ = yin.FIGURES[figure]
    deltas = 1 if spec_.parameter == "delta" else len(spec_.deltas)
    return len(spec_.values) * deltas * len(tuple(methods) if methods else spec_.methods) * draws


def run_count(sweep: Sweep) -> int:
    """How many runs (scenario and instance sweeps) or solves (figure sweeps) the sweep takes, without listing them."""
    s = sweep.section
    if sweep.kind == "figure":
        return figure_solve_count(s.figure, s.seeds, s.methods or None)
    lengths = [len(v) for v in sweep.parameters.values()]
    combos = min(lengths) if s.combine == "zip" else math.prod(lengths)
    return combos * s.seeds


def _check_parameter(name: str, section: SweepSection, source: str) -> None:
    """A parameter must name one scenario field the engine does not set itself."""
    field = f"parameters.{name}"
    problem = field_path_error(Scenario, name)
    if problem is not None:
        raise InputError(problem[1], source=source, field=field)
    if name in ENGINE_FIELDS:
        raise InputError(f"the sweep engine sets {name} itself: {ENGINE_FIELDS[name]}", source=source, field=field)
    if name == "run.duration_s" and section.duration_s:
        raise InputError(f"sweep.duration_s = {section.duration_s:g} s sets every run's duration; drop one of the two",
                         source=source, field=field)


def load_sweep(path: Path, allow_large: bool = False) -> Sweep:
    """Read and validate a sweep file; ``allow_large`` lifts the limit on its number of runs (``MAX_SWEEP_RUNS``)."""
    path = Path(path)
    source = str(path)
    table = read_toml(path, "sweep")
    unknown = set(table) - {"sweep", "parameters", "draw", "plan"}
    if unknown:
        raise InputError("unknown section; allowed: sweep, parameters (and draw, plan for instance sweeps)", source=source,
                         field=sorted(unknown)[0])
    if "sweep" not in table:
        raise InputError("missing the [sweep] section", source=source)
    section = load_table(SweepSection, table["sweep"], source, "sweep")
    if sum(map(bool, (section.base, section.figure, section.instance))) != 1:
        raise InputError("give exactly one of sweep.base (a scenario), sweep.figure (a paper figure) or sweep.instance "
                         "(a QKD planning instance)", source=source, field="sweep")
    raw_parameters = table.get("parameters", {})
    if not isinstance(raw_parameters, dict):
        raise InputError("must be a table", source=source, field="parameters")
    parameters = {name: _values(name, raw, source) for name, raw in raw_parameters.items()}
    sweep = Sweep(section, parameters, path, allow_large)
    _check_kind_fields(sweep, table, source)
    if sweep.kind == "figure":
        from studies import yin

        if section.figure not in yin.FIGURES:
            raise InputError(f"unknown figure {section.figure!r}; figures: {', '.join(sorted(yin.FIGURES))}", source=source, field="sweep.figure")
        if parameters:
            raise InputError("figure sweeps take their parameters from the figure", source=source, field="parameters")
    else:
        key, what = ("base", "base scenario") if sweep.kind == "scenario" else ("instance", "instance")
        if not base_scenario(path, getattr(section, key)).is_file():
            raise InputError(f"{what} {getattr(section, key)!r} not found next to the sweep file nor in the shipped library",
                             source=source, field=f"sweep.{key}")
        if not parameters:
            raise InputError(f"a {sweep.kind} sweep needs at least one parameter (a list of one value fixes it)",
                             source=source, field="parameters")
        if sweep.kind == "instance":
            sweep = dataclasses.replace(sweep, sections=_check_instance_parameters(sweep, table, source))
        else:
            for name in parameters:
                _check_parameter(name, section, source)
        if section.combine == "zip" and len({len(v) for v in parameters.values()}) > 1:
            raise InputError("combine = 'zip' needs lists of equal length", source=source, field="parameters")
    allowed = KIND_METRICS[sweep.kind]
    unknown_metrics = [m for m in section.metrics if m not in allowed]
    if unknown_metrics:
        raise InputError(f"unknown metric {unknown_metrics[0]!r}; available: {', '.join(allowed)}", source=source, field="sweep.metrics")
    unit = "solves" if sweep.kind == "figure" else "runs"
    hint = "lower sweep.seeds" if sweep.kind == "figure" else "use fewer parameter values or lower sweep.seeds"
    check_count(run_count(sweep), MAX_SWEEP_RUNS, unit, source, "sweep", allow_large, hint)
    return sweep


def _check_kind_fields(sweep: Sweep, table: dict, source: str) -> None:
    """Refuse settings that mean nothing for the sweep's kind (they would be silently ignored)."""
    this = f"this is {'an' if sweep.kind == 'instance' else 'a'} {sweep.kind} sweep"
    for name, kinds in KIND_FIELDS.items():
        if sweep.kind not in kinds and name in table["sweep"]:
            raise InputError(f"only {' and '.join(kinds)} sweeps take {name}; {this}", source=source, field=f"sweep.{name}")
    for name in ("draw", "plan"):
        if sweep.kind != "instance" and name in table:
            raise InputError(f"only instance sweeps take a [{name}] section; {this}", source=source, field=name)


def _check_instance_parameters(sweep: Sweep, table: dict, source: str) -> dict[str, dict]:
    """Validate the instance file, the [draw] and [plan] sections and the parameter names; returns the sections."""
    from sweeps.instances import check_parameter, load_sections, read_instance
    from twin.qkd.instance import QkdInstance

    instance_table, _ = read_instance(sweep.instance_path)
    QkdInstance.from_mapping(instance_table, str(sweep.instance_path))
    sections = load_sections(table, source)
    for name in sweep.parameters:
        check_parameter(name, instance_table, source)
    return sections


def run_seed(sweep_seed: int, overrides: tuple, replicate: int) -> int:
    """A run's seed from the sweep's seed, the run's parameters and its replicate — never its order."""
    key = zlib.crc32(json.dumps(list(overrides)).encode())
    return int(np.random.SeedSequence(sweep_seed, spawn_key=(key, replicate)).generate_state(1)[0])


def points(sweep: Sweep) -> list[tuple[tuple[str, object], ...]]:
    """The parameter combinations, each a tuple of (field, value)."""
    names = list(sweep.parameters)
    lists = [sweep.parameters[n] for n in names]
    combos = zip(*lists) if sweep.section.combine == "zip" else itertools.product(*lists)
    return [tuple(zip(names, combo)) for combo in combos]


def scenario_runs(sweep: Sweep, log_root: Path | None = None) -> list[ScenarioRun]:
    """Every run of a scenario sweep, in a fixed order."""
    s = sweep.section
    base = str(sweep.base_path.resolve())
    digest = scenario_digest(Path(base))
    runs = []
    for point in points(sweep):
        for replicate in range(s.seeds):
            run = ScenarioRun(len(runs), base, point, replicate, run_seed(s.seed, point, replicate), s.duration_s,
                              allow_large=sweep.allow_large, digest=digest)
            if log_root is not None:
                run = dataclasses.replace(run, log_dir=str(log_root / run.run_id))
            runs.append(run)
    return runs
