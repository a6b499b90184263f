"""The event log shared by every layer: kinds declared once, JSON Lines written incrementally.

It sits beside ``physical`` and ``twin`` (not inside ``twin``) because both layers log through the
same injected :class:`EventLog`, and ``physical`` must not import ``twin``.
"""

from eventlog.kinds import KINDS
from eventlog.writer import EventLog

__all__ = ["KINDS", "EventLog"]
