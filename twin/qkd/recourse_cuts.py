"""Lazily generated QKD (and, with Kaewpuang eq. 35, KM) recourse: Benders-style cuts per route group.

The on-demand cost of one link in one route group is the convex piecewise-linear function
R ↦ Σ_c p_c·(γ−β)·π·max(0, need_c − R) of its reservation R; :class:`LazyGroup` holds θ columns that
underestimate it and generates the cuts that make θ exact at the points the master visits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import highspy
import numpy as np

from physical.wavelengths import DEMAND_TOLERANCE
from twin.qkd.lp_builder import INTEGRALITY_TOLERANCE, LpBuilder

#: a cut: (columns, coefficients, row lower bound, row upper bound)
Cut = tuple[np.ndarray, np.ndarray, float, float]
CUT_REL_TOLERANCE: Final = 1e-7  #: a recourse cut is added when θ underestimates the recourse by more than this (relative)


@dataclass
class LazyGroup:
    """QKD recourse of one route group (classes sharing their route blocks), generated lazily.

    θ[l] ≥ Σ_c p_c·κ·π_l·max(0, need_c[l] − R[l]) with need_c[l] = Σ_f a[c,f,l]·w[f,l] is imposed by
    the cuts θ[l] ≥ Σ_{c∈S} p_c·κ·π_l·(need_c[l] − R[l]) for the sets S of classes whose need exceeds
    the reservation at the current point (Benders-style, the convex piecewise-linear recourse of
    each link is exact once no cut is violated); on-demand capacity need_c[l] − R[l] ≤ od[l] is
    added when violated.
    """

    theta: np.ndarray  # (L,) columns, −1 where the group never needs wavelengths of its resource
    classes: np.ndarray  # (n_c,) scenario classes of the group
    use: np.ndarray  # (F, L) link-use columns
    coef: np.ndarray  # (n_c, F, L) QKD wavelengths per unit of use
    prob: np.ndarray  # (n_c,)
    price: np.ndarray  # (L,) κ·π_q: on-demand minus utilisation price factor times price
    od: np.ndarray  # (L,) on-demand capacity
    reserve: np.ndarray  # (L,) R_q columns (R_k for the KM resource)
    resource: str = "qkd"  # "qkd", or "km" with the eq. 35 rule (KM needs then vary by scenario too)
    seen: set = field(default_factory=set)  # (link, class-set bytes) of cuts already made

    def _cut(self, l: int, weights: np.ndarray) -> Cut:
        """θ_l − Σ_f κπ Σ_c w_c p_c a[c,f,l]·use[f,l] + κπ Σ_c w_c p_c·R_l ≥ 0 for class weights w (0/1)."""
        pw = self.prob * weights
        coef_use = -self.price[l] * (pw @ self.coef[:, :, l])
        cols = np.concatenate([[self.theta[l]], self.use[:, l], [self.reserve[l]]])
        vals = np.concatenate([[1.0], coef_use, [self.price[l] * pw.sum()]])
        return cols, vals, 0.0, np.inf

    def expected_value_cuts(self) -> list[Cut]:
        """The cut with every class (θ ≥ expected excess, valid everywhere) for each link."""
        return [self._cut(int(l), np.ones(self.classes.size)) for l in np.flatnonzero(self.theta >= 0)]

    def exact_theta(self, values: np.ndarray) -> tuple[np.ndarray, bool]:
        """(exact recourse per link at ``values`` (0 where no θ), whether on-demand capacities hold)."""
        out = np.zeros(self.theta.size)
        links = np.flatnonzero(self.theta >= 0)
        if links.size == 0:
            return out, True
        use = values[self.use[:, links]]
        need = np.einsum("cfl,fl->cl", self.coef[:, :, links], use)
        excess = need - values[self.reserve[links]][None, :]
        out[links] = self.price[links] * (self.prob @ np.maximum(excess, 0.0))
        return out, bool(np.all(excess <= self.od[links][None, :] + INTEGRALITY_TOLERANCE))

    def breakpoint_cuts(self, l: int, use: np.ndarray, reserve: float | None = None, window: int | None = None) -> list[Cut]:
        """Every cut of the 1-D piecewise-linear recourse R ↦ Σ_c p_c·κπ·max(0, need_c − R) of link ``l``
        for the link-use vector ``use`` (F,): one per distinct positive need level v, with S = {c: need_c ≥ v}.
        Together they represent that function exactly; each is valid for every use and R.
        With ``window``, only the levels within ``window`` of the one at ``reserve``."""
        need = self.coef[:, :, l] @ use
        levels = np.unique(need[need > DEMAND_TOLERANCE])
        if window is not None and reserve is not None and levels.size:
            k = int(np.searchsorted(levels, reserve + INTEGRALITY_TOLERANCE))
            levels = levels[max(0, k - window): k + window + 1]
        cuts = []
        for v in levels:
            weights = (need >= v - 1e-9).astype(float)
            key = (l, np.packbits(weights.astype(bool)).tobytes())
            if key in self.seen:
                continue
            self.seen.add(key)
            cuts.append(self._cut(l, weights))
        return cuts

    def separate(self, values: np.ndarray, window: int | None = 0) -> list[Cut]:
        """Cuts violated at ``values`` (recourse underestimated or on-demand capacity exceeded).

        For a violated link, ``window`` = 0 gives the one cut at the current reservation, k > 0 the
        breakpoint cuts within k levels of it, None every breakpoint cut of the link's use vector."""
        links = np.flatnonzero(self.theta >= 0)
        if links.size == 0:
            return []
        use = values[self.use[:, links]]  # (F, n)
        need = np.einsum("cfl,fl->cl", self.coef[:, :, links], use)  # (n_c, n)
        excess = need - values[self.reserve[links]][None, :]
        recourse = self.price[links] * (self.prob @ np.maximum(excess, 0.0))
        theta = values[self.theta[links]]
        cuts = []
        for j in np.flatnonzero(recourse > theta + CUT_REL_TOLERANCE * np.maximum(1.0, recourse)):
            l = int(links[j])
            if window == 0:
                cuts.append(self._cut(l, (excess[:, j] > 0).astype(float)))
            else:
                cuts += self.breakpoint_cuts(l, use[:, j], float(values[self.reserve[l]]), window)
        for c, j in zip(*np.nonzero(excess > self.od[links][None, :] + INTEGRALITY_TOLERANCE)):
            l = int(links[j])
            cols = np.concatenate([self.use[:, l], [self.reserve[l]]])
            vals = np.concatenate([self.coef[c, :, l], [-1.0]])
            cuts.append((cols, vals, -np.inf, float(self.od[l])))
        return cuts


def add_cuts_to_builder(b: LpBuilder, cuts: list[Cut]) -> None:
    """Append ``cuts`` as rows of the model being assembled."""
    for cols, vals, lo, hi in cuts:
        r = b.add_rows(1, lo, hi)
        b.add_entries(np.full(cols.size, r), cols, vals)


def add_cuts_to_highs(h: highspy.Highs, cuts: list[Cut]) -> None:
    """Append ``cuts`` as rows of the model loaded in ``h`` (one ``addRows`` call)."""
    starts = np.cumsum([0] + [c[0].size for c in cuts[:-1]]).astype(np.int32)
    index = np.concatenate([c[0] for c in cuts]).astype(np.int32)
    value = np.concatenate([c[1] for c in cuts])
    lower = np.array([c[2] for c in cuts])
    upper = np.array([c[3] for c in cuts])
    h.addRows(len(cuts), lower, upper, index.size, starts, index, value)
