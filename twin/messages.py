"""Messages between twins (inter-twin). Immutable and stamped, so information age is always known."""

from __future__ import annotations

from dataclasses import dataclass

from physical.reports import TransmitterReport, WeatherReport


@dataclass(frozen=True)
class EdgeView:
    """What an edge twin forwards to the core-cloud twin: its entity's latest report.

    Args:
        edge: the edge twin's name (a transmitter's; the ground twin also forwards the weather station's reports).
        report: the entity report the view carries.
        forwarded_at_s: simulated time the edge twin sent it (s).
    """

    edge: str
    report: TransmitterReport | WeatherReport
    forwarded_at_s: float

    @property
    def measured_at_s(self) -> float:
        """When the carried information was measured (s)."""
        return self.report.measured_at_s
