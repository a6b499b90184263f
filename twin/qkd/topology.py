"""Index tables of a QKD instance for the MILP: nodes, links, arcs, media and key rates per link.

Each undirected link l gives two arcs, 2l (a→b) and 2l+1 (b→a); node and link indices follow the
instance's order.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from twin.qkd.instance import QkdInstance, Scenario


class Topology:
    """Index tables of an instance: nodes, links, arcs (2l: a→b, 2l+1: b→a), media per link."""

    def __init__(self, instance: QkdInstance) -> None:
        self.node_names = [n.name for n in instance.nodes]
        self.node_index = {name: i for i, name in enumerate(self.node_names)}
        self.link_names = [l.name for l in instance.links]
        self.n_nodes = len(self.node_names)
        self.n_links = len(instance.links)
        self.n_arcs = 2 * self.n_links
        tails, heads = [], []
        for link in instance.links:
            a, b = self.node_index[link.a], self.node_index[link.b]
            tails += [a, b]
            heads += [b, a]
        self.tail = np.array(tails, dtype=np.int64)
        self.head = np.array(heads, dtype=np.int64)
        self.media = sorted(instance.media)
        self.link_medium_name = [l.medium for l in instance.links]
        # key rate per QKD link of every link (bit/s) and its index among the distinct rates
        self.link_rate = np.array([instance.key_rate_bps(l) for l in instance.links], dtype=float)
        self.rates, self.link_rate_index = np.unique(self.link_rate, return_inverse=True)
        # node-arc incidence: +1 at the tail, −1 at the head
        arcs = np.arange(self.n_arcs)
        self.inc_rows = np.concatenate([self.tail, self.head])
        self.inc_cols = np.concatenate([arcs, arcs])
        self.inc_vals = np.concatenate([np.ones(self.n_arcs), -np.ones(self.n_arcs)])

    def down_links(self, scenario: Scenario) -> frozenset[int]:
        """Indices of the links whose medium is down under ``scenario``'s weather."""
        down = scenario.down_media()
        return frozenset(l for l, m in enumerate(self.link_medium_name) if m in down)

    def reachable(self, src: int, dst: int, down: frozenset[int]) -> bool:
        """True if a path of links not in ``down`` joins nodes ``src`` and ``dst``."""
        return dst in self.component(src, down)

    def component(self, src: int, down: frozenset[int]) -> set[int]:
        """The nodes a path of links not in ``down`` joins to node ``src`` (breadth first)."""
        seen, queue = {src}, deque([src])
        while queue:
            v = queue.popleft()
            for l in np.flatnonzero((self.tail[0::2] == v) | (self.head[0::2] == v)):
                if int(l) in down:
                    continue
                w = int(self.head[2 * l]) if int(self.tail[2 * l]) == v else int(self.tail[2 * l])
                if w not in seen:
                    seen.add(w)
                    queue.append(w)
        return seen
