"""Who transmits to whom, and the channels between them: topology as data (issue 13).

A downlink has T transmitters, K users and E eavesdroppers (Eves). Each user is served by exactly
one transmitter; every transmitter reaches every receiver (users, then Eves). The channel from
transmitter t (N_t antennas) to receiver r is a complex vector of length N_t, noise-normalised
(divided by the square root of the receiver noise power, so every receiver's noise power is 1;
shared/DESIGN.md "noise normalisation"). :class:`ChannelMatrix` keeps all of them in one array.

Yin et al.'s system is the special case :meth:`Topology.paper`: the satellite, the UAV and the base
station serve SU, AU and GU, and one Eve ``e`` listens. Its 12 channel vectors also have the named
form :class:`ChannelSet` (``h_*`` from the satellite, ``a_*`` from the UAV, ``g_*`` from the base
station), which the world and the twin's logs use.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Mapping

import numpy as np

#: the paper's transmitters, users (served in that order) and eavesdropper
PAPER_TRANSMITTERS: tuple[str, ...] = ("satellite", "uav", "bs")
USERS: tuple[str, ...] = ("su", "au", "gu")
PAPER_EVES: tuple[str, ...] = ("e",)
#: receivers in the order used throughout: satellite, aerial and ground users, then Eve
RECEIVERS: tuple[str, ...] = USERS + PAPER_EVES
#: transmitter channel-name prefixes: h = satellite, a = UAV, g = base station
TRANSMITTER_PREFIX: dict[str, str] = {"satellite": "h", "uav": "a", "bs": "g"}
#: the user each transmitter serves
SERVED_USER: dict[str, str] = dict(zip(PAPER_TRANSMITTERS, USERS))
#: user → its transmitter in the paper's topology
PAPER_SERVING: dict[str, str] = dict(zip(USERS, PAPER_TRANSMITTERS))
CHANNEL_NAMES: tuple[str, ...] = tuple(p + "_" + r for p in TRANSMITTER_PREFIX.values() for r in RECEIVERS)
#: (transmitter, receiver) of each named channel
CHANNEL_PAIRS: dict[str, tuple[str, str]] = {
    p + "_" + r: (tx, r) for tx, p in TRANSMITTER_PREFIX.items() for r in RECEIVERS
}


@dataclass(frozen=True)
class Topology:
    """Names of the transmitters, users and Eves, who serves whom, and the antenna counts.

    Args:
        transmitters: transmitter names, in the order arrays use.
        users: user names, in the order arrays use.
        eves: eavesdropper names (at least one).
        serving: user → the one transmitter that serves it.
        antennas: transmitter → antenna count N_t ≥ 1.
    """

    transmitters: tuple[str, ...]
    users: tuple[str, ...]
    eves: tuple[str, ...]
    serving: Mapping[str, str]
    antennas: Mapping[str, int]

    def __post_init__(self) -> None:
        for name in ("transmitters", "users", "eves"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "serving", dict(self.serving))
        object.__setattr__(self, "antennas", {tx: int(n) for tx, n in self.antennas.items()})
        names = self.transmitters + self.users + self.eves
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"topology: duplicate names {duplicates}")
        if not self.transmitters or not self.users or not self.eves:
            raise ValueError("topology: needs at least one transmitter, one user and one eavesdropper")
        unserved = [u for u in self.users if u not in self.serving]
        if unserved:
            raise ValueError(f"topology: users without a serving transmitter: {unserved}")
        unknown = sorted(set(self.serving) - set(self.users)) + sorted(
            {tx for tx in self.serving.values() if tx not in self.transmitters})
        if unknown:
            raise ValueError(f"topology: serving names unknown users or transmitters: {unknown}")
        if set(self.antennas) != set(self.transmitters):
            raise ValueError(f"topology: antennas must be given for exactly the transmitters {self.transmitters}, "
                             f"got {sorted(self.antennas)}")
        bad = {tx: n for tx, n in self.antennas.items() if n < 1}
        if bad:
            raise ValueError(f"topology: antenna counts must be >= 1, got {bad}")

    @classmethod
    def paper(cls, antennas: tuple[int, int, int] = (4, 4, 4)) -> "Topology":
        """Yin et al.: satellite, UAV and base station serve SU, AU and GU; one Eve ``e``.

        Args:
            antennas: (N_S, N_U, N_B).
        """
        return cls(PAPER_TRANSMITTERS, USERS, PAPER_EVES, PAPER_SERVING, dict(zip(PAPER_TRANSMITTERS, antennas)))

    @property
    def is_paper(self) -> bool:
        """True for the paper's names, order and serving (any antenna counts)."""
        return (self.transmitters, self.users, self.eves) == (PAPER_TRANSMITTERS, USERS, PAPER_EVES) \
            and self.serving == PAPER_SERVING

    @property
    def receivers(self) -> tuple[str, ...]:
        """Users, then Eves."""
        return self.users + self.eves

    def users_of(self, transmitter: str) -> tuple[str, ...]:
        """The users ``transmitter`` serves, in user order."""
        if transmitter not in self.transmitters:
            raise ValueError(f"unknown transmitter {transmitter!r}; expected one of {self.transmitters}")
        return tuple(u for u in self.users if self.serving[u] == transmitter)

    def serving_index(self) -> np.ndarray:
        """(K,) index into ``transmitters`` of each user's serving transmitter."""
        return np.array([self.transmitters.index(self.serving[u]) for u in self.users], dtype=int)

    def antenna_counts(self) -> tuple[int, ...]:
        """N_t in transmitter order."""
        return tuple(self.antennas[tx] for tx in self.transmitters)


class ChannelMatrix:
    """All noise-normalised channels transmitter → receiver of a topology in one array (dimensionless).

    ``values[t, r, :N_t]`` is the channel from transmitter t to receiver r (receivers: users, then
    Eves); entries beyond N_t are zero. ``H[tx, rx]`` returns that length-N_t vector (read-only).
    """

    def __init__(self, topology: Topology, values: np.ndarray) -> None:
        values = np.array(values, dtype=complex)
        n_max = max(topology.antennas.values())
        expected = (len(topology.transmitters), len(topology.receivers), n_max)
        if values.shape != expected:
            raise ValueError(f"channel matrix: expected shape {expected} (T, R, N_max), got {values.shape}")
        for t, tx in enumerate(topology.transmitters):
            if np.any(values[t, :, topology.antennas[tx]:] != 0):
                raise ValueError(f"channel matrix: entries beyond the {topology.antennas[tx]} antennas of {tx!r} must be zero")
        values.setflags(write=False)
        self.topology = topology
        self.values = values
        self._tx = {tx: t for t, tx in enumerate(topology.transmitters)}
        self._rx = {rx: r for r, rx in enumerate(topology.receivers)}

    def __getitem__(self, key: tuple[str, str]) -> np.ndarray:
        tx, rx = key
        if tx not in self._tx or rx not in self._rx:
            raise KeyError(f"no channel {tx!r} → {rx!r} in this topology")
        return self.values[self._tx[tx], self._rx[rx], : self.topology.antennas[tx]]

    @classmethod
    def from_vectors(cls, topology: Topology, vectors: Mapping[tuple[str, str], np.ndarray]) -> "ChannelMatrix":
        """Build from one vector per (transmitter, receiver) pair; every pair must be given."""
        missing = [(tx, rx) for tx in topology.transmitters for rx in topology.receivers if (tx, rx) not in vectors]
        if missing:
            raise ValueError(f"channel matrix: missing channels {missing}")
        values = np.zeros((len(topology.transmitters), len(topology.receivers), max(topology.antennas.values())), complex)
        for t, tx in enumerate(topology.transmitters):
            for r, rx in enumerate(topology.receivers):
                vec = np.asarray(vectors[(tx, rx)], dtype=complex).ravel()
                if vec.size != topology.antennas[tx]:
                    raise ValueError(f"channel {tx!r} → {rx!r}: expected {topology.antennas[tx]} entries, got {vec.size}")
                values[t, r, : vec.size] = vec
        return cls(topology, values)

    def replaced(self, vectors: Mapping[tuple[str, str], np.ndarray]) -> "ChannelMatrix":
        """A copy with the given (transmitter, receiver) channels replaced (e.g. Eve's by their estimates)."""
        values = self.values.copy()
        for (tx, rx), vec in vectors.items():
            vec = np.asarray(vec, dtype=complex).ravel()
            if vec.size != self.topology.antennas[tx]:
                raise ValueError(f"channel {tx!r} → {rx!r}: expected {self.topology.antennas[tx]} entries, got {vec.size}")
            values[self._tx[tx], self._rx[rx], : vec.size] = vec
        return ChannelMatrix(self.topology, values)

    @classmethod
    def from_channel_set(cls, ch: "ChannelSet") -> "ChannelMatrix":
        """The paper's 12 named channels (h → satellite, a → UAV, g → base station; ``*_e`` → Eve ``e``)."""
        arrays = ch.as_dict()
        return cls.from_vectors(Topology.paper(ch.antenna_counts()),
                                {pair: arrays[name] for name, pair in CHANNEL_PAIRS.items()})

    def to_channel_set(self) -> "ChannelSet":
        """The named form; only for the paper's topology."""
        if not self.topology.is_paper:
            raise ValueError("only the paper's topology (satellite, uav, bs → su, au, gu; Eve e) has a ChannelSet form")
        return ChannelSet.from_mapping({name: self[pair].copy() for name, pair in CHANNEL_PAIRS.items()})


@dataclass(frozen=True)
class ChannelSet:
    """The paper's 12 noise-normalised channel vectors transmitter→receiver (dimensionless, shape (N_tx,)).

    ``h_*`` from the satellite (N_S antennas), ``a_*`` from the UAV (N_U), ``g_*`` from the base
    station (N_B), to SU, AU, GU and Eve (``*_e``). :meth:`ChannelMatrix.from_channel_set` gives
    the general form.
    """

    h_su: np.ndarray
    h_au: np.ndarray
    h_gu: np.ndarray
    h_e: np.ndarray
    a_su: np.ndarray
    a_au: np.ndarray
    a_gu: np.ndarray
    a_e: np.ndarray
    g_su: np.ndarray
    g_au: np.ndarray
    g_gu: np.ndarray
    g_e: np.ndarray

    def __post_init__(self) -> None:
        arrays = self.as_dict()
        for prefix in TRANSMITTER_PREFIX.values():
            sizes = {arrays[prefix + "_" + r].shape for r in RECEIVERS}
            if len(sizes) != 1 or len(next(iter(sizes))) != 1:
                raise ValueError(f"channels {prefix}_*: expected four 1-D vectors of one length, got shapes {sorted(sizes)}")

    @classmethod
    def from_mapping(cls, arrays: Mapping[str, np.ndarray]) -> "ChannelSet":
        """Build from a mapping with the 12 keys ``h_su`` … ``g_e`` (extra keys are ignored)."""
        missing = [n for n in CHANNEL_NAMES if n not in arrays]
        if missing:
            raise KeyError(f"missing channel arrays: {', '.join(missing)}")
        return cls(**{n: np.asarray(arrays[n], dtype=complex).ravel() for n in CHANNEL_NAMES})

    def as_dict(self) -> dict[str, np.ndarray]:
        """The 12 vectors keyed by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def with_eve(self, h_e: np.ndarray, a_e: np.ndarray, g_e: np.ndarray) -> "ChannelSet":
        """A copy with Eve's three channels replaced (e.g. by their estimates)."""
        return replace(self, h_e=np.asarray(h_e, complex), a_e=np.asarray(a_e, complex), g_e=np.asarray(g_e, complex))

    def antenna_counts(self) -> tuple[int, int, int]:
        """(N_S, N_U, N_B)."""
        return self.h_su.size, self.a_su.size, self.g_su.size
