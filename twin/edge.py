"""Edge twins: each keeps the latest view of its entity and forwards it to the core-cloud twin."""

from __future__ import annotations

import numpy as np
import simpy

from physical.reports import KeyPoolReport, TransmitterReport, WeatherReport
from physical.units import linear_to_db
from twin.messages import EdgeView


class EdgeTwin:
    """The digital twin of one physical entity (the satellite, a UAV, a base station — one also hosts the weather station — or the QKD network).

    Args:
        env: the SimPy environment.
        name: the edge's name (its entity's: a transmitter's name, or ``qkd``).
        inbox: store the intra-twin link delivers the entity's reports into.
        uplink: inter-twin link to the core-cloud twin (anything with ``put``).
        log: the event logger.
    """

    def __init__(self, env: simpy.Environment, name: str, inbox: simpy.Store, uplink, log) -> None:
        self.env = env
        self.name = name
        self.inbox = inbox
        self.uplink = uplink
        self.log = log
        self.latest: dict[str, TransmitterReport | WeatherReport] = {}
        env.process(self._run())

    def _run(self):
        while True:
            report = yield self.inbox.get()
            key = type(report).__name__
            current = self.latest.get(key)
            stale = current is not None and current.measured_at_s > report.measured_at_s  # same instant: forwarded
            self.log.log(self.env.now, f"edge.{self.name}", "report_received", **self._summary(report), stale=stale)
            if stale:
                continue  # jitter reordered it: keep the newer view, forward nothing
            self.latest[key] = report
            self.uplink.put(EdgeView(self.name, report, self.env.now))

    def _summary(self, report) -> dict[str, object]:
        fields: dict[str, object] = {
            "report": type(report).__name__,
            "measured_at_s": report.measured_at_s,
            "age_s": self.env.now - report.measured_at_s,
        }
        if isinstance(report, TransmitterReport):
            for user, h in report.channels.items():
                fields[f"gain_{user}_db"] = linear_to_db(float(np.vdot(h, h).real))
            for eve, h in report.eve_estimates.items():
                fields[f"gain_{eve}_est_db"] = linear_to_db(float(np.vdot(h, h).real))
            if report.serving_satellite is not None:  # a constellation: the satellite that measured (handovers reach the twin here)
                fields["serving_satellite"] = report.serving_satellite
        elif isinstance(report, KeyPoolReport):
            states = list(report.states.values())
            fields["empty_pools"] = states.count("EMPTY")
            fields["warning_pools"] = states.count("WARNING")
            fields["unmet_bits"] = sum(report.unmet_bits.values())
        else:
            fields["weather"] = report.state
            fields["rain_fade_db"] = report.rain_fade_db
        return fields
