"""Every event kind the simulator writes, declared in one place with what its row means.

A row is ``t_s`` (simulated time, s), ``seq`` (global counter), ``source`` (who logged it),
``kind``, then flat scalar fields whose names carry their unit (``_s``, ``_m``, ``_deg``, ``_db``,
``_w``, ``_bps_hz``). Arrays go to ``arrays.jsonl`` and are referenced by ``*_array_id``.
"""

from __future__ import annotations

import functools
import re
from typing import Final, Iterable

KINDS: Final[dict[str, str]] = {
    # run lifecycle
    "run_started": "scenario loaded and world built; fields describe the run",
    "run_finished": "the simulation reached its end time (or was interrupted: see status)",
    "tle_loaded": "satellite TLE parsed and checksums verified; epoch and orbit summary",
    "pass_event": "satellite rise / culmination / set over the site inside the run (skyfield find_events)",
    "constellation_loaded": "with [constellation]: the satellites propagated, the serving rule, what the others do, and the handovers in the run",
    # physical world
    "satellite_state": "per tick: satellite elevation, azimuth, slant range, sunlit, sun altitude at the site (with a constellation: of the serving satellite, its name, and the largest interference-to-noise ratio over the receivers when the others interfere)",
    "handover": "with a constellation: another satellite serves from this tick on (old and new satellite, their elevations at this tick, the rule)",
    "service_acquired": "with a constellation: a satellite serves from this tick on after none did (or at t = 0)",
    "service_lost": "with a constellation: no satellite is above the minimum elevation from this tick on",
    "uav_state": "per tick: UAV position in the site's local east-north-up frame",
    "weather_state": "at t = 0: the weather in force (state, rain fade, cloud cover), logged even if it never changes",
    "pass_state": "at t = 0: whether the satellite serves (is above its minimum elevation), that minimum, and the next pass event",
    "weather_change": "the weather changed state (Markov chain or recorded trace)",
    "decision_applied": "a transmitter started using a precoder received from the core-cloud twin",
    "secrecy": "per tick: secrecy rates achieved on the TRUE channel with the precoders in force, and planned",
    # twins and links
    "report_received": "an edge twin received its entity's report (intra-twin link)",
    "view_received": "the core-cloud twin received an edge twin's view (inter-twin link)",
    "message_lost": "a link dropped a message (loss model)",
    "resolve": "the core-cloud twin re-solved the precoding problem on its view",
    "decision_sent": "the core-cloud twin sent a decision to a transmitter",
    # QKD layer
    "key_demand_change": "a request's key-rate demand changed (random model or trace replay)",
    "key_demand_unmet": "over [from_s, t_s] a request got less key than it asked for; reason: no_plan, no_route, capacity or pool_empty",
    "key_pool_crossing": "a link's key pool crossed a threshold (READY / WARNING / EMPTY)",
    "key_pool_state": "from t = 0 every log period: each link's key stock, state, thresholds, rate of one QKD link and running QKD links",
    "qkd_plan": "the core-cloud twin planned QKD reservations and routes (trigger, forecast, status, costs, fallback)",
    "qkd_route": "a plan's route for one request in one weather pattern",
    "qkd_reserved": "a plan's reserved QKD and KM wavelengths on one link, and the key rate per QKD link it planned with",
    "qkd_plan_applied": "the QKD network started using a plan received from the core-cloud twin",
    "qkd_plan_cost": "when a plan leaves service: its reservation cost (pro rata), realised second-stage cost, key served and unmet",
}


#: the columns each kind may carry after ``t_s, seq, source, kind`` (units from :func:`unit_of`); a name with
#: a placeholder (:data:`PLACEHOLDERS`, e.g. ``achieved_<user>_bps_hz``) is a template: one column per entity
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "run_started": ("scenario", "seed", "start_utc", "duration_s", "tick_s", "n_ticks", "precoding"),
    "run_finished": ("status", "ticks"),
    "tle_loaded": ("name", "tle", "epoch_utc", "epoch_age_days", "perigee_altitude_m", "apogee_altitude_m"),
    "pass_event": ("event", "elevation_deg"),
    "constellation_loaded": ("elements", "satellites", "rule", "hysteresis_deg", "hysteresis_s", "non_serving", "handovers"),
    "satellite_state": ("elevation_deg", "azimuth_deg", "range_m", "sunlit", "sun_elevation_deg", "serving",
                        "weather", "rain_fade_db", "cloud_cover", "serving_satellite", "interference_to_noise_db"),
    "handover": ("old_satellite", "new_satellite", "old_elevation_deg", "new_elevation_deg", "rule"),
    "service_acquired": ("satellite", "elevation_deg", "rule"),
    "service_lost": ("satellite", "elevation_deg", "rule"),
    "uav_state": ("x_m", "y_m", "z_m"),
    "weather_state": ("state", "rain_fade_db", "cloud_cover"),
    "pass_state": ("serving", "elevation_deg", "min_elevation_deg", "next_event", "next_event_t_s"),
    "weather_change": ("from_state", "to_state", "rain_fade_db", "cloud_cover"),
    "decision_applied": ("solve_id", "method", "power_w", "scaled_to_limit", "decision_age_s", "input_age_s",
                         "planned_rate_bps_hz", "precoder_array_id"),
    "secrecy": ("achieved_<user>_bps_hz", "achieved_min_bps_hz", "planned_<user>_bps_hz", "planned_min_bps_hz",
                "solve_id_<transmitter>", "unserved"),
    "report_received": ("report", "measured_at_s", "age_s", "stale", "gain_<user>_db", "gain_<eve>_est_db", "empty_pools", "warning_pools", "unmet_bits", "weather", "rain_fade_db",
                        "serving_satellite"),
    "view_received": ("edge", "report", "measured_at_s", "age_s"),
    "message_lost": ("message_type",),
    "resolve": ("solve_id", "trigger", "method", "status", "fallback", "oldest_input_age_s", "first_judged_s",
                "judged_ticks", "csi_drift", "weather", "iterations", "objective_bps_hz", "eigen_ratio_min",
                "rank_one", "phi_array_id", "message", "planned_<user>_bps_hz", "planned_min_bps_hz",
                "calibration_<transmitter>", "coherence_<transmitter>_s"),
    "decision_sent": ("solve_id", "transmitter", "method"),
    "key_demand_change": ("request", "from_bps", "to_bps"),
    "key_demand_unmet": ("request", "reason", "weather", "from_s", "requested_bits", "served_bits", "unmet_bits"),
    "key_pool_crossing": ("link", "from_state", "to_state", "threshold_bits", "stock_bits"),
    "key_pool_state": ("link", "medium", "stock_bits", "state", "warning_bits", "empty_bits", "capacity_bits",
                       "qkd_link_rate_bps", "running_qkd_links"),
    "qkd_plan": ("plan_id", "trigger", "status", "fallback", "weather", "p_clear", "scenarios",
                 "satellite_key_rate_bps", "satellite_offered", "satellite_links_offered", "links_offered",
                 "unserved_scenarios", "oldest_input_age_s", "objective", "first_stage_cost",
                 "expected_second_stage_cost", "reserved_qkd", "reserved_km", "message"),
    "qkd_route": ("plan_id", "request", "weather", "route", "hops", "via_satellite"),
    "qkd_reserved": ("plan_id", "link", "medium", "qkd", "km", "key_rate_bps"),
    "qkd_plan_applied": ("plan_id", "decision_age_s", "input_age_s"),
    "qkd_plan_cost": ("plan_id", "duration_s", "first_stage_cost", "second_stage_cost", "total_cost",
                      "requested_bits", "served_bits", "unmet_bits", "mean_ondemand_qkd"),
}


def check_kind(kind: str) -> None:
    """Raise ``KeyError`` for an undeclared kind (catches typos at the logging call)."""
    if kind not in KINDS:
        raise KeyError(f"undeclared event kind {kind!r}; declare it in eventlog/kinds.py")


#: unit of a column by its name's suffix (the project's naming rule), longest suffix first
_SUFFIX_UNITS: Final = (("_array_id", "id of a row in arrays.jsonl"), ("_bps_hz", "bit/s/Hz"), ("_bps", "bit/s"),
                        ("_bits", "bit"), ("_dbw", "dBW"), ("_db", "dB"), ("_deg", "deg"), ("_utc", "UTC, ISO 8601"),
                        ("_days", "day"), ("_s", "s"), ("_m", "m"), ("_w", "W"))
#: columns whose unit their suffix does not give
_NAMED_UNITS: Final = {"cloud_cover": "fraction of sky", "p_clear": "probability", "eigen_ratio_min": "ratio",
                       "calibration_<transmitter>": "ratio", "solve_id_<transmitter>": "solve id"}


#: placeholders a column template may hold; each stands for one entity name of the run's topology
PLACEHOLDERS: Final[dict[str, str]] = {"<user>": "a user's name", "<eve>": "an eavesdropper's name",
                                       "<transmitter>": "a transmitter's name"}
#: what an entity name may look like (scenarios.config enforces it): so ``gain_<user>_db`` parses one way
ENTITY_NAME: Final = "[a-z][a-z0-9]*"


@functools.lru_cache(maxsize=None)
def column_pattern(template: str) -> re.Pattern[str] | None:
    """The regular expression of a column template (None for a plain column name)."""
    if "<" not in template:
        return None
    pattern = re.escape(template)
    for placeholder in PLACEHOLDERS:
        pattern = pattern.replace(re.escape(placeholder), ENTITY_NAME)
    return re.compile(pattern)


def template_of(kind: str, column: str) -> str | None:
    """The declared column (a plain name or a template such as ``achieved_<user>_bps_hz``) ``column`` of ``kind`` matches, or None.

    A plain declaration wins over a template (``achieved_min_bps_hz`` is its own column).
    """
    declared = COLUMNS[kind]
    if column in declared:
        return column
    return next((t for t in declared if (p := column_pattern(t)) is not None and p.fullmatch(column)), None)


def unit_of(column: str) -> str:
    """The unit of ``column`` or of a column template ("" for counts, flags, names and costs in the instance's price units)."""
    if column in _NAMED_UNITS:
        return _NAMED_UNITS[column]
    named = next((_NAMED_UNITS[t] for t in _NAMED_UNITS if (p := column_pattern(t)) is not None and p.fullmatch(column)), None)
    if named is not None:
        return named
    return next((unit for suffix, unit in _SUFFIX_UNITS if column.endswith(suffix)), "")


def check_columns(kind: str, columns) -> None:
    """Raise ``KeyError`` when a row of ``kind`` carries a column its declaration does not list (nor a template matches)."""
    check_kind(kind)
    undeclared = {c for c in columns if template_of(kind, c) is None}
    if undeclared:
        raise KeyError(f"event kind {kind!r} has undeclared columns {sorted(undeclared)}; declare them in eventlog/kinds.py")


def entity_names(columns: Iterable[str], prefix: str, suffix: str, exclude: tuple[str, ...] = ()) -> list[str]:
    """The entity names in per-entity columns ``<prefix><name><suffix>`` (e.g. the users of a secrecy row's
    ``achieved_<user>_bps_hz``), in column order, without ``exclude``."""
    names = []
    for column in columns:
        if column.startswith(prefix) and column.endswith(suffix) and len(column) > len(prefix) + len(suffix):
            name = column[len(prefix):len(column) - len(suffix)]
            if name not in exclude and re.fullmatch(ENTITY_NAME, name):
                names.append(name)
    return names
