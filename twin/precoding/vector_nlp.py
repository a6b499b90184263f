"""Max-min secrecy precoding in the space of the precoding vectors themselves (issue 15).

The lifted SDP of Algorithm 1 (``twin.precoding.synergy``) optimises N×N matrices W_k and lands on
rank one on typical draws; this solves the same problem P1 (Yin et al. eq. 20; for the statistical
design its moment form, every |hᴴx|² read as xᴴRx) directly over the vectors x_k, a nonlinear
program of 2·Σ_k N_{t(k)} + 1 real variables instead of Σ_k N_{t(k)}² per SDP iteration:

    maximise s  subject to  R_ke(x) ≥ s for every served user k and Eve e,
                            Σ_{k∈t} ‖x_k‖² ≤ P_t for every transmitter t,

with, in nats (the split of eq. 21; all powers in noise units),

    R_ke·ln2 = ln T_k − ln I_k − ln T_e + ln J_ke,
    T_k = 1 + Σ_j x_jᴴR_{jk}x_j,  I_k = T_k − x_kᴴR_{kk}x_k,
    T_e = 1 + Σ_j x_jᴴR_{je}x_j,  J_ke = T_e − x_kᴴR_{ke}x_k,

where R_{jr} is the second moment (or h·hᴴ) of the channel from user j's transmitter to receiver
r. Every term is a smooth function of the real and imaginary parts of x with the exact gradient
∂(xᴴRx)/∂(Re x, Im x) = 2·(Re Rx, Im Rx), so SciPy's SLSQP (sequential quadratic programming on
the epigraph form) converges to a KKT point in tens of iterations. The variables are scaled by
√P_t (so ‖x‖ ≤ 1 per transmitter) and the problem is local: callers start it from the
power-optimised baselines and keep the best verified result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Sequence

import numpy as np
from scipy import optimize

LN2: Final = float(np.log(2.0))  #: nats per bit
SLSQP_MAX_ITER: Final = 100  #: SLSQP iteration cap (the stopping rule on slow climbs; the best iterate is kept; 50 left 1–3 % on some Yin Fig. 2 draws)
SLSQP_FTOL: Final = 1e-10  #: SLSQP stopping tolerance on the objective (bit/s/Hz)


@dataclass(frozen=True)
class VectorSolve:
    """Outcome of one vector-space solve.

    Args:
        precoders: x_k per user (zeros for unserved users), within every power limit.
        min_rate: the smallest R_ke over served users and Eves at ``precoders`` (bit/s/Hz, unclipped).
        iterations: SLSQP iterations.
        converged: SLSQP reported success.
        message: SLSQP's message.
        history: the best min rate (bit/s/Hz) within the limits after each SLSQP iteration (non-decreasing).
    """

    precoders: tuple[np.ndarray, ...]
    min_rate: float
    iterations: int
    converged: bool
    message: str
    history: tuple[float, ...] = ()


class _Rates:
    """R_ke, the transmitters' power use and their gradients over the stacked real variables y (module docstring).

    Served user a's vector is x_a = √P_a·T_a·y_a with a preconditioner T_a (Hermitian; identity
    when none is given); the receivers' moments become T_a M_ar T_a and the power ‖x_a‖²/P_a the
    quadratic form y_aᴴ T_a² y_a, kept as one extra "receiver" after the Eves.
    """

    def __init__(self, moments: Sequence[Sequence[np.ndarray]], scales: np.ndarray, served: np.ndarray, eves: int,
                 preconditioners: Sequence[np.ndarray] | None = None) -> None:
        self.users = len(moments)
        self.eves = eves
        self.served = np.flatnonzero(served)
        stacks, self.transforms = [], []
        for a, j in enumerate(self.served):
            m = np.asarray(moments[j], dtype=complex) * scales[j] ** 2
            t = np.eye(m.shape[1]) if preconditioners is None else preconditioners[a]
            stacks.append(np.concatenate([t @ m @ t, (t @ t)[np.newaxis]]))
            self.transforms.append(t * scales[j])
        self.stacks = stacks
        sizes = [m.shape[1] for m in stacks]
        self.slices = [slice(2 * a, 2 * (a + n)) for a, n in zip(np.cumsum([0] + sizes[:-1]), sizes)]
        self.sizes = sizes
        self.count = 2 * sum(sizes)
        # every user's stack zero-padded to the largest N, so one einsum serves mixed antenna counts;
        # columns[i] is where the i-th real variable sits in the padded (users, re/im, N_max) layout
        width = max(sizes, default=0)
        self.width = width
        self.padded = np.zeros((len(stacks), len(moments[0]) + 1 if stacks else 0, width, width), complex)
        for a, m in enumerate(stacks):
            self.padded[a, :, : m.shape[1], : m.shape[1]] = m
        self.local = [np.r_[0:n, width:width + n] for n in sizes]        # a user's reals within its padded 2·N_max
        self.columns = np.concatenate([2 * width * a + cols for a, cols in enumerate(self.local)]) if stacks else np.zeros(0, int)

    def vectors(self, z: np.ndarray) -> list[np.ndarray]:
        """The precoders x_j of the served users (W^½) from the stacked reals."""
        return [t @ (z[s][:n] + 1j * z[s][n:]) for t, s, n in zip(self.transforms, self.slices, self.sizes)]

    def evaluate(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
        """R_ke in bit/s/Hz (served users · E, Eve-major), its Jacobian, the power use per served user and its gradients."""
        count, width = len(self.served), self.width
        flat = np.zeros(2 * width * count)
        flat[self.columns] = z
        halves = flat.reshape(count, 2, width)
        v = halves[:, 0] + 1j * halves[:, 1]                                # (S, N_max)
        ys = np.einsum("arij,aj->ari", self.padded, v)                     # M_ar y_a per receiver, (S, R+1, N_max)
        q = np.einsum("ari,ai->ar", ys, v.conj()).real                     # y_aᴴ M_ar y_a, (S, R+1)
        users, served, eves = self.users, self.served, self.eves
        total_users = 1.0 + q[:, :users].sum(axis=0)                       # T_k at every user
        total_eves = 1.0 + q[:, users:users + eves].sum(axis=0)            # T_e
        own = q[np.arange(count), served]                                  # message k at user k
        interf = total_users[served] - own                                 # I_k
        leak = total_eves[np.newaxis, :] - q[:, users:users + eves]        # J_ke, (S, E)
        rates = (np.log(total_users[served])[:, None] - np.log(interf)[:, None] - np.log(total_eves)[None, :]
                 + np.log(leak)) / LN2                                     # (S, E)
        grads = 2.0 * np.concatenate([ys.real, ys.imag], axis=2)            # ∂q_ar/∂y_a, (S_a, R+1, 2N_max)
        others = ~np.eye(count, dtype=bool)                                # [k, a]: message a is interference at k
        at_users = grads[:, served].transpose(1, 0, 2)                     # [k, a, :]
        base = at_users / total_users[served][:, None, None] - others[:, :, None] * at_users / interf[:, None, None]
        d_eve = grads[:, users:users + eves].transpose(1, 0, 2)            # [e, a, :]
        jac = (base[None] - (d_eve / total_eves[:, None, None])[:, None]
               + others[None, :, :, None] * d_eve[:, None] / leak.T[:, :, None, None]) / LN2   # [e, k, a, :]
        jac = jac.reshape(eves * count, 2 * width * count)[:, self.columns]
        power_grads = [grads[a, -1, cols] for a, cols in enumerate(self.local)]
        return rates.T.ravel(), jac, q[:, -1], power_grads


def preconditioners(moments: Sequence[Sequence[np.ndarray]], scales: np.ndarray, served: np.ndarray, eves: int,
                    start: Sequence[np.ndarray]) -> list[np.ndarray]:
    """T_a = M_a^{-1/2} with M_a = I + Σ_r P·R_ar / s_r (the lifted program's preconditioner, ``synergy``).

    s_r is the current total at the intended user and the current interference plus noise at every
    other receiver, so each rate's curvature is about one in the new coordinates at the start."""
    plain = _Rates(moments, scales, served, eves)
    z = np.concatenate([np.concatenate([(v := np.asarray(start[j], complex) / scales[j]).real, v.imag]) for j in plain.served])
    vs = [z[s][:n] + 1j * z[s][n:] for s, n in zip(plain.slices, plain.sizes)]
    q = np.array([np.real((m @ v) @ v.conj()) for m, v in zip(plain.stacks, vs)])[:, :-1]
    users = plain.users
    total = 1.0 + q.sum(axis=0)
    out = []
    for a, j in enumerate(plain.served):
        weights = total - q[a]                                             # interference plus noise at each receiver
        weights[j] = total[j]
        metric = np.eye(plain.sizes[a]) + sum(m / w for m, w in zip(plain.stacks[a][:-1], weights))
        vals, vecs = np.linalg.eigh((metric + metric.conj().T) / 2.0)
        out.append((vecs / np.sqrt(vals)) @ vecs.conj().T)
    return out


def maximise_min_rate(moments: Sequence[Sequence[np.ndarray]], user_limits_w: np.ndarray, groups: Sequence[Sequence[int]],
                      served: np.ndarray, eves: int, start: Sequence[np.ndarray], *, max_iterations: int = SLSQP_MAX_ITER,
                      ftol: float = SLSQP_FTOL) -> VectorSolve:
    """Solve problem P1 over the precoding vectors from ``start`` (module docstring).

    Args:
        moments: moments[j][r] = R_{jr}, N_{t(j)}×N_{t(j)} Hermitian PSD (noise units), receivers
            ordered users then Eves.
        user_limits_w: P_{t(j)} per user (W), 0 for an unserved user.
        groups: the users of each transmitter (indices), whose powers share one limit.
        served: (K,) bool, the users counted in the max-min (the others get zero vectors).
        eves: number of Eves E.
        start: x_j per user to start from (any power; scaled into the limits first).
    """
    served = np.asarray(served, dtype=bool)
    limits = np.asarray(user_limits_w, dtype=float)
    scales = np.sqrt(np.where(served, limits, 0.0))
    position = {int(j): a for a, j in enumerate(np.flatnonzero(served))}
    shared = [g for g in ([position[j] for j in group if j in position] for group in groups) if g]
    start = [np.asarray(x, dtype=complex) for x in start]
    for g in shared:                                                       # start inside every limit
        members = [j for j in position if position[j] in g]
        power = sum(float(np.vdot(start[j], start[j]).real) / limits[j] for j in members)
        if power > 1.0:
            for j in members:
                start[j] = start[j] / np.sqrt(power)
    rates = _Rates(moments, scales, served, eves, preconditioners(moments, scales, served, eves, start))
    z0 = np.concatenate([np.concatenate([(v := np.linalg.solve(t, start[j])).real, v.imag])
                         for t, j in zip(rates.transforms, rates.served)])
    cache: dict = {}

    def evaluated(x: np.ndarray) -> dict:
        if cache.get("x") is None or not np.array_equal(cache["x"], x):
            values, jac, power, power_grads = rates.evaluate(x[:-1])
            power_jac = np.zeros((len(shared), x.size))
            for row, g in enumerate(shared):
                for a in g:
                    power_jac[row, rates.slices[a]] = -power_grads[a]
            cache.update(x=x.copy(), rates=values - x[-1], rate_jac=np.hstack([jac, -np.ones((jac.shape[0], 1))]),
                         power=np.array([1.0 - power[g].sum() for g in shared]), power_jac=power_jac)
        return cache

    objective = np.zeros(rates.count + 1)
    objective[-1] = -1.0
    s0 = float(rates.evaluate(z0)[0].min())
    best = {"value": s0, "z": z0}
    history: list[float] = []

    def keep_best(x: np.ndarray) -> None:  # SLSQP is not monotone: the best iterate, scaled into the limits, wins
        point = evaluated(x)
        z = x[:-1].copy()
        over = 1.0 - point["power"]
        if over.max() > 1.0:
            for g, power in zip(shared, over):
                if power > 1.0:
                    for a in g:
                        z[rates.slices[a]] /= np.sqrt(power)
            value = float(rates.evaluate(z)[0].min())
        else:
            value = float((point["rates"] + x[-1]).min())
        if value > best["value"]:
            best.update(value=value, z=z)

    def iteration_done(x: np.ndarray) -> None:
        keep_best(x)
        history.append(best["value"])

    result = optimize.minimize(
        lambda x: -x[-1], np.append(z0, s0), jac=lambda x: objective, method="SLSQP", callback=iteration_done,
        constraints=[{"type": "ineq", "fun": lambda x: evaluated(x)["rates"], "jac": lambda x: evaluated(x)["rate_jac"]},
                     {"type": "ineq", "fun": lambda x: evaluated(x)["power"], "jac": lambda x: evaluated(x)["power_jac"]}],
        options={"maxiter": max_iterations, "ftol": ftol},
    )
    keep_best(result.x)
    z = best["z"]
    vectors = rates.vectors(z)
    for g in shared:                                                       # SLSQP may end a hair outside a limit
        power = sum(float(np.vdot(vectors[a], vectors[a]).real) / scales[rates.served[a]] ** 2 for a in g)
        if power > 1.0:
            for a in g:
                vectors[a] = vectors[a] / np.sqrt(power)
    out = [np.zeros(x.shape[0], complex) for x in start]
    for a, j in enumerate(rates.served):
        out[j] = vectors[a]
    return VectorSolve(tuple(out), float(rates.evaluate(z)[0].min()), int(result.nit), bool(result.success), str(result.message),
                       tuple(history))
