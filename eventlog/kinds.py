"""Every event kind the simulator writes, declared in one place with what its row means.

A row is ``t_s`` (simulated time, s), ``seq`` (global counter), ``source`` (who logged it),
``kind``, then flat scalar fields whose names carry their unit (``_s``, ``_m``, ``_deg``, ``_db``,
``_w``, ``_bps_hz``). Arrays go to ``arrays.jsonl`` and are referenced by ``*_array_id``.
"""

from __future__ import annotations

from typing import Final

KINDS: Final[dict[str, str]] = {
    # run lifecycle
    "run_started": "scenario loaded and world built; fields describe the run",
    "run_finished": "the simulation reached its end time (or was interrupted: see status)",
    "tle_loaded": "satellite TLE parsed and checksums verified; epoch and orbit summary",
    "pass_event": "satellite rise / culmination / set over the site inside the run (skyfield find_events)",
    # physical world
    "satellite_state": "per tick: satellite elevation, azimuth, slant range, sunlit, sun altitude at the site",
    "uav_state": "per tick: UAV position in the site's local east-north-up frame",
    "weather_change": "the weather Markov chain changed state",
    "decision_applied": "a transmitter started using a precoder received from the core-cloud twin",
    "secrecy": "per tick: secrecy rates achieved on the TRUE channel with the precoders in force, and planned",
    # twins and links
    "report_received": "an edge twin received its entity's report (intra-twin link)",
    "view_received": "the core-cloud twin received an edge twin's view (inter-twin link)",
    "message_lost": "a link dropped a message (loss model)",
    "resolve": "the core-cloud twin re-solved the precoding problem on its view",
    "decision_sent": "the core-cloud twin sent a decision to a transmitter",
}


def check_kind(kind: str) -> None:
    """Raise ``KeyError`` for an undeclared kind (catches typos at the logging call)."""
    if kind not in KINDS:
        raise KeyError(f"undeclared event kind {kind!r}; declare it in eventlog/kinds.py")
