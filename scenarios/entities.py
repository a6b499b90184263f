"""The named entities of a scenario: transmitters, users and eavesdroppers, and who serves whom (issue 13).

A scenario names its entities; this module turns the validated tables into one
:class:`physical.channel_matrix.Topology` and checks what spans them:

- **transmitters**: the satellite (``satellite``; with a constellation, whichever serves), then the
  UAVs (``[uav]``, named ``uav``, or ``[uavs.<name>]``), then the base stations (``[base_station]``,
  named ``bs``, or ``[base_stations.<name>]``), each in file order;
- **users** (``[users.<name>]``): each served by the one transmitter its ``served_by`` names; the
  paper's ``su``, ``au`` and ``gu`` default to ``satellite``, ``uav`` and ``bs``. Users are ordered by
  their transmitter, then as in the file, so the paper's file gives (su, au, gu) in any order;
- **eavesdroppers**: ``users.eve`` is the paper's Eve (named ``e`` inside, as the paper's channel
  names ``h_e``, ``a_e``, ``g_e`` and the logs' ``gain_e_est_db`` have it), then ``[eavesdroppers.<name>]``.

Names are lowercase letters and digits starting with a letter (:data:`eventlog.kinds.ENTITY_NAME`),
unique across all entities and none of :data:`RESERVED_NAMES`, so every per-entity column of the
log (``achieved_<user>_bps_hz``, ``solve_id_<transmitter>`` …) reads one way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Mapping

from common.errors import InputError
from eventlog.kinds import ENTITY_NAME
from physical.channel_matrix import Topology
from physical.channels import SATELLITE

if TYPE_CHECKING:
    from scenarios.config import BaseStationConfig, NodeMotionConfig, Scenario, UavConfig

#: names no entity may take: column words of the log, sources of its rows, the paper Eve's inner name, RNG stream words
RESERVED_NAMES: Final = ("min", "e", "sat", "world", "core", "run", "weather", "qkd", "link", "edge")
#: the paper's users and the transmitter each defaults to
PAPER_SERVED_BY: Final = {"su": SATELLITE, "au": "uav", "gu": "bs"}
#: the paper's eavesdropper: its key under [users] and its name inside
PAPER_EVE_KEY: Final = "eve"
PAPER_EVE: Final = "e"
SINGLE_UAV: Final = "uav"  #: the name of the UAV of a [uav] table
SINGLE_BS: Final = "bs"  #: the name of the base station of a [base_station] table

_NAME = re.compile(ENTITY_NAME)


@dataclass(frozen=True)
class Entities:
    """A scenario's transmitters, users and Eves by name.

    Args:
        topology: transmitters (satellite, UAVs, base stations), users, Eves, serving and antennas.
        uavs: each UAV's table, by transmitter name.
        base_stations: each base station's table, by transmitter name.
        receivers: each user's and Eve's motion table, by topology name (users, then Eves).
        fields: the dotted scenario field of every named entity (``e`` → ``users.eve``), for messages.
    """

    topology: Topology
    uavs: Mapping[str, "UavConfig"]
    base_stations: Mapping[str, "BaseStationConfig"]
    receivers: Mapping[str, "NodeMotionConfig"]
    fields: Mapping[str, str]

    @property
    def ground_twin(self) -> str:
        """The base station whose edge twin hosts the site's weather station (the first one)."""
        return next(iter(self.base_stations))

    def kind_of(self, transmitter: str) -> str:
        """``satellite``, ``uav`` or ``bs``."""
        if transmitter == SATELLITE:
            return "satellite"
        return "uav" if transmitter in self.uavs else "bs"


def _name(name: str, field: str, source: str) -> None:
    if not _NAME.fullmatch(name):
        raise InputError(f"{name!r} is not an entity name: use lowercase letters and digits, starting with a letter "
                         "(e.g. uav2, su1, eve2)", source=source, field=field)
    if name in RESERVED_NAMES:
        raise InputError(f"{name!r} is reserved (the log uses it); reserved names: {', '.join(RESERVED_NAMES)}", source=source, field=field)


def _one_or_many(table: dict, single: str, many: str, scenario_single, scenario_many, default_name: str, source: str) -> dict:
    """The transmitters of one kind: the ``[single]`` table named ``default_name``, or the ``[many.<name>]`` tables."""
    if scenario_many is None:
        return {default_name: scenario_single}
    if single in table:
        raise InputError(f"give [{single}] (one, named {default_name}) or [{many}.<name>] (several), not both", source=source, field=many)
    if not scenario_many:
        raise InputError(f"[{many}] names no {single.replace('_', ' ')}; give at least one [{many}.<name>] table", source=source, field=many)
    return dict(scenario_many)


def entities_of(scenario: "Scenario", table: dict, source: str) -> Entities:
    """The scenario's named entities and topology (module docstring); ``table`` is the parsed file, to tell which tables it gives."""
    uavs = _one_or_many(table, "uav", "uavs", scenario.uav, scenario.uavs, SINGLE_UAV, source)
    stations = _one_or_many(table, "base_station", "base_stations", scenario.base_station, scenario.base_stations, SINGLE_BS, source)
    fields: dict[str, str] = {SATELLITE: "satellite"}
    for group, names, many in (("uav", uavs, scenario.uavs), ("base_station", stations, scenario.base_stations)):
        for name in names:
            where = f"{group}s.{name}" if many is not None else group
            if many is not None:
                _name(name, where, source)
            _unique(name, where, fields, source)
    transmitters = (SATELLITE, *uavs, *stations)
    served: dict[str, list[str]] = {tx: [] for tx in transmitters}
    receivers: dict[str, "NodeMotionConfig"] = {}
    eves: list[str] = []
    for key, user in scenario.users.items():
        where = f"users.{key}"
        if key == PAPER_EVE_KEY:
            if user.served_by:
                raise InputError("users.eve is the paper's eavesdropper: it is served by nobody; name a user otherwise, "
                                 "or list eavesdroppers under [eavesdroppers.<name>]", source=source, field=f"{where}.served_by")
            _unique(PAPER_EVE, where, fields, source)
            eves.append(PAPER_EVE)
            receivers[PAPER_EVE] = user
            continue
        _name(key, where, source)
        _unique(key, where, fields, source)
        transmitter = user.served_by or PAPER_SERVED_BY.get(key, "")
        if not transmitter:
            raise InputError(f"required: the transmitter that serves {key} ({', '.join(transmitters)})", source=source,
                             field=f"{where}.served_by")
        if transmitter not in served:
            given = "given" if user.served_by else f"the default for {key}"
            raise InputError(f"{transmitter!r} ({given}) is not a transmitter of this scenario; transmitters: {', '.join(transmitters)}",
                             source=source, field=f"{where}.served_by")
        served[transmitter].append(key)
        receivers[key] = user
    for key, eve in (scenario.eavesdroppers or {}).items():
        where = f"eavesdroppers.{key}"
        _name(key, where, source)
        _unique(key, where, fields, source)
        eves.append(key)
        receivers[key] = eve
    users = tuple(u for tx in transmitters for u in served[tx])
    if not users:
        raise InputError("no user: give at least one [users.<name>] table served by a transmitter", source=source, field="users")
    if not eves:
        raise InputError("no eavesdropper: give users.eve or at least one [eavesdroppers.<name>] table", source=source, field="users")
    antennas = {SATELLITE: scenario.satellite.antennas, **{n: u.antennas for n, u in uavs.items()},
                **{n: b.antennas for n, b in stations.items()}}
    topology = Topology(transmitters, users, tuple(eves), {u: tx for tx in transmitters for u in served[tx]}, antennas)
    return Entities(topology, uavs, stations, {r: receivers[r] for r in topology.receivers}, fields)


def _unique(name: str, field: str, seen: dict[str, str], source: str) -> None:
    if name in seen:
        raise InputError(f"the name {name!r} is taken by {seen[name]}; every transmitter, user and eavesdropper needs its own name",
                         source=source, field=field)
    seen[name] = field
