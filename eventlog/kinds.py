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


def check_kind(kind: str) -> None:
    """Raise ``KeyError`` for an undeclared kind (catches typos at the logging call)."""
    if kind not in KINDS:
        raise KeyError(f"undeclared event kind {kind!r}; declare it in eventlog/kinds.py")
