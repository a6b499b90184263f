"""Polishing a lazy master solution into a plan with its true cost: routes kept, reservations re-optimised.

For fixed routes the reservation of each link is a newsvendor problem over the scenario classes'
need levels (a 1-D convex piecewise-linear cost, minimum at a need level or a bound); θ and the KM
on-demand columns are then set to their exact values, so the polished point's cost is an upper bound
for the cutting-plane loop of :mod:`twin.qkd.solve`.
"""

from __future__ import annotations

import math

import numpy as np

from physical.wavelengths import KM_WAVELENGTHS_PER_LINK
from twin.qkd.formulation import MilpModel
from twin.qkd.lp_builder import INTEGRALITY_TOLERANCE


def best_reservation(price: float, weights: np.ndarray, needs: np.ndarray, lo: float, hi: float,
                      od: float) -> float | None:
    """argmin over integer R ∈ [lo, hi] of price·R + Σ_i weights_i·max(0, needs_i − R) subject to
    needs_i − R ≤ od (the 1-D convex piecewise-linear reservation cost of one link; its minimum is at
    a need level or a bound), or None if no R is feasible."""
    lo = max(lo, float(needs.max(initial=0.0)) - od)
    lo, hi = math.ceil(lo - INTEGRALITY_TOLERANCE), math.floor(hi + INTEGRALITY_TOLERANCE)
    if lo > hi:
        return None
    candidates = np.unique(np.clip(np.concatenate([needs, [lo, hi]]), lo, hi))
    costs = price * candidates + np.maximum(needs[None, :] - candidates[:, None], 0.0) @ weights
    return float(candidates[int(np.argmin(costs))])


def clean_free_backups(model: MilpModel, values: np.ndarray) -> np.ndarray:
    """``values`` with every block of the free-backup relaxation at its least value z = max(0, x − h)
    and its link use w = z(a→b) + z(b→a) (:mod:`twin.qkd.formulation`): the needs only fall, and
    where no request is hit (h = 0) every block is its first-stage route. Unchanged for other models."""
    if not model.free_backups:
        return values
    values = values.copy()
    for f, z, h, w in model.backups:
        values[z] = np.maximum(np.round(values[model.x[f]]) - np.round(values[h]), 0.0)
        values[w] = values[z[0::2]] + values[z[1::2]]
    return values


def polish(model: MilpModel, raw: np.ndarray) -> np.ndarray | None:
    """The lazy master's point ``raw`` with its routes kept, every reservation re-optimised for those
    routes (per-link newsvendor over the need levels), θ set to the exact recourse and the KM
    on-demand columns to their exact values: a master-feasible point whose cost is the plan's true
    cost (in the free-backup relaxation, once :func:`clean_free_backups` has emptied the hit blocks).
    None if some link's on-demand capacity cannot be met (the routes are infeasible)."""
    values = clean_free_backups(model, raw)
    rounded = np.round(values)
    values = np.where(model.integer & (np.abs(rounded - values) <= INTEGRALITY_TOLERANCE), rounded, values)
    cost = np.asarray(model.lp.col_cost_)
    lower = np.asarray(model.lp.col_lower_)
    upper = model.upper
    for resource in ("qkd", "km"):
        groups = [g for g in model.lazy_groups if g.resource == resource]
        if not groups:
            continue
        # needs of every class of every group on every link (n_classes, L), with weights κπ·p_c
        needs = np.concatenate([np.einsum("cfl,fl->cl", g.coef, values[g.use]) for g in groups])
        weights = np.concatenate([g.prob for g in groups])
        kappa_price, od, reserve = groups[0].price, groups[0].od, groups[0].reserve
        for l in range(model.topo.n_links):
            col = int(reserve[l])
            r = best_reservation(cost[col], kappa_price[l] * weights, needs[:, l], lower[col], upper[col], od[l])
            if r is None:
                return None
            values[col] = r
        for g in groups:
            theta, ok = g.exact_theta(values)
            if not ok:
                return None
            links = g.theta >= 0
            values[g.theta[links]] = theta[links]
    if model.km_rule:
        return values
    # KM (eq. 6): need per route group and link; on-demand columns o_k[g, l] carry the group's probability
    qkd_groups = [g for g in model.lazy_groups if g.resource == "qkd"]
    need_k = np.stack([KM_WAVELENGTHS_PER_LINK * values[g.use].sum(axis=0) for g in qkd_groups])  # (G, L)
    for l in range(model.topo.n_links):
        col = int(model.r_k[l])
        o_cols = model.o_k[:, l]
        has = o_cols >= 0
        if np.any(need_k[~has, l] > INTEGRALITY_TOLERANCE):
            return None
        od = float(np.min(upper[o_cols[has]], initial=np.inf))
        r = best_reservation(cost[col], cost[o_cols[has]], need_k[has, l], lower[col], upper[col], od)
        if r is None:
            return None
        values[col] = r
        values[o_cols[has]] = np.maximum(need_k[has, l] - r, 0.0)
    return values
