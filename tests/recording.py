"""Test doubles that record what a component logs or sends."""

from __future__ import annotations


class ListLog:
    """An event logger that keeps rows in memory."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def log(self, t_s, source, kind, **fields):
        self.rows.append({"t_s": t_s, "source": source, "kind": kind, **fields})
        return len(self.rows) - 1

    def timing(self, seq, **measurements) -> None:
        self.rows[seq].update(measurements)

    def of(self, kind):
        return [r for r in self.rows if r["kind"] == kind]


class Sink:
    """A link stand-in that keeps what is put into it."""

    def __init__(self) -> None:
        self.items = []

    def put(self, item) -> None:
        self.items.append(item)
