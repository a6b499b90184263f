"""``sagin-twin precode CHANNELS.npz``: one precoding decision from a file of channels.

The file holds the 12 noise-normalised complex channel vectors ``h_su h_au h_gu h_e a_su a_au
a_gu a_e g_su g_au g_gu g_e`` (true channels), optional estimates ``h_e_est a_e_est g_e_est`` of
Eve's channels (default: the true ones), the power limits ``p_s_w p_u_w p_b_w`` (W) and, optionally,
``delta``, the relative bound ‖Δh_e‖ ≤ Δ·‖ĥ_e‖ of Eve's CSI error (default 0.1, used only with
--robust). The decision uses the estimates; the reported rates are achieved on the true channels.

Limits: a regular file of at most 64 MiB; only NAME.npy members, each at most 1024 numeric elements
(checked from its header before its data is read; pickled objects are refused); channel entries of
magnitude at most 1e8; power limits in [0, 1e6] W.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time
import zipfile
from pathlib import Path
from typing import Final

import numpy as np

from physical.secrecy import CHANNEL_NAMES, ChannelSet, secrecy_rates
from common.errors import InputError
from common.input_files import read_bytes
from sagin_twin.stdio import print_json
from twin.precoding import PrecodingProblem
from twin.precoding.baselines import PowerOptimisedBaseline
from twin.precoding.synergy import DEFAULT_EPSILON, SynergyPrecoder

METHODS: Final = ("synergy", "synergy-sdp", "mrt", "zf", "zf-all")  #: --method choices
SYNERGY_METHODS: Final = ("synergy", "synergy-sdp")  #: over the precoding vectors (default) / Algorithm 1 over the lifted SDP
ESTIMATE_NAMES: Final = ("h_e_est", "a_e_est", "g_e_est")  #: optional estimates of Eve's channels
POWER_NAMES: Final = ("p_s_w", "p_u_w", "p_b_w")  #: satellite, UAV, BS power limits (W)
DEFAULT_DELTA: Final = 0.1  #: Eve-CSI error bound used by --robust when the file has no ``delta``
MAX_POWER_W: Final = 1e6  #: largest power limit accepted (W, 60 dBW)
MAX_CHANNEL_MAGNITUDE: Final = 1e8  #: largest |entry| of a noise-normalised channel vector (an SNR per watt of 160 dB)
MAX_ARRAY_ELEMENTS: Final = 1024  #: largest array accepted (elements), checked from its .npy header before reading
MAX_MEMBERS: Final = 64  #: most members of the npz archive


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("precode", help="compute precoders for one set of channels", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("channels", type=Path, metavar="CHANNELS.npz", help="numpy .npz file of channels and power limits")
    p.add_argument("--method", choices=METHODS, default="synergy",
                   help="precoding policy (default: synergy, problem P1 solved over the precoding vectors; "
                        "synergy-sdp is the paper's Algorithm 1 over the lifted SDP, the reference)")
    p.add_argument("--robust", action="store_true",
                   help=f"synergy/synergy-sdp only: design for the worst case over Eve's CSI error, with Δ from the file's "
                        f"'delta' array (default {DEFAULT_DELTA}); runs the lifted SCA from every baseline start")
    p.add_argument("--epsilon", type=float, default=None, metavar="E",
                   help=f"SCA stopping tolerance on the objective (bit/s/Hz, default {DEFAULT_EPSILON:g}); "
                        f"used by synergy-sdp and --robust, ignored with a note by the vector solver")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=precode)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of a ``precode`` npz, each header (shape, dtype) checked before its data is read; never unpickles."""
    source = str(path)
    data = read_bytes(path, "npz")  # a regular file of at most MAX_BYTES["npz"]
    if data.startswith(b"\x93NUMPY"):
        raise InputError("not a numpy .npz file (a single .npy array)", source=source)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise InputError(f"not a numpy .npz file ({exc.__class__.__name__})", source=source) from None
    if len(members) > MAX_MEMBERS:
        raise InputError(f"holds {len(members)} members; the limit is {MAX_MEMBERS}", source=source)
    arrays: dict[str, np.ndarray] = {}
    with archive:
        for info in members:
            name = info.filename.removesuffix(".npy")
            if not info.filename.endswith(".npy") or info.is_dir():
                raise InputError("is not an .npy array: an npz holds only NAME.npy members", source=source, field=info.filename)
            if name in arrays:
                raise InputError("appears twice in the archive", source=source, field=name)
            try:
                with archive.open(info) as stream:
                    version = np.lib.format.read_magic(stream)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
                    elif version == (2, 0):
                        shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
                    else:
                        raise ValueError(f"npy format version {version}")
                    if dtype.hasobject or dtype.kind not in "biufc":
                        raise InputError(f"expected a numeric array, got dtype {dtype} (object arrays would need pickle, which is refused)",
                                         source=source, field=name)
                    size = math.prod(shape)
                    if size > MAX_ARRAY_ELEMENTS:
                        raise InputError(f"its header declares shape {shape} ({size:,} elements); the limit is {MAX_ARRAY_ELEMENTS:,}",
                                         source=source, field=name)
                with archive.open(info) as stream:
                    arrays[name] = np.lib.format.read_array(stream, allow_pickle=False)
            except InputError:
                raise
            except (ValueError, OSError, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
                raise InputError(f"unreadable .npy array ({exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
                                 source=source, field=name) from None
    return arrays


def _array(arrays: dict[str, np.ndarray], name: str, source: str, bound: float) -> np.ndarray:
    """A finite numeric array whose entries have magnitude at most ``bound``."""
    if name not in arrays:
        raise InputError("missing array", source=source, field=name)
    value = arrays[name]
    if not np.all(np.isfinite(value)):
        raise InputError("contains NaN or infinite values", source=source, field=name)
    largest = float(np.max(np.abs(value))) if value.size else 0.0
    if largest > bound:
        raise InputError(f"an entry has magnitude {largest:.3g}; allowed at most {bound:g}", source=source, field=name)
    return value


def load_problem(path: Path, robust: bool) -> tuple[PrecodingProblem, ChannelSet]:
    """(design problem on Eve's estimates, true channels) from a ``precode`` input file."""
    source = str(path)
    data = _read_npz(path)
    arrays = {}
    for name in CHANNEL_NAMES + tuple(n for n in ESTIMATE_NAMES if n in data):
        value = _array(data, name, source, MAX_CHANNEL_MAGNITUDE)
        if value.ndim != 1 or value.size == 0:
            raise InputError(f"expected a non-empty 1-D vector, got shape {value.shape}", source=source, field=name)
        arrays[name] = value.astype(complex)
    scalars = {}
    for name in POWER_NAMES + (("delta",) if "delta" in data else ()):
        value = _array(data, name, source, math.inf)
        if value.size != 1 or np.iscomplexobj(value):
            raise InputError(f"expected one real number, got shape {value.shape} dtype {value.dtype}",
                             source=source, field=name)
        scalars[name] = float(value.reshape(()))
    for prefix in "hag":
        names = [f"{prefix}_{r}" for r in ("su", "au", "gu", "e")] + ([f"{prefix}_e_est"] if f"{prefix}_e_est" in arrays else [])
        lengths = {arrays[n].size for n in names}
        if len(lengths) != 1:
            detail = ", ".join(f"{n}={arrays[n].size}" for n in names)
            raise InputError(f"one transmitter's vectors must share a length ({detail})", source=source, field=names[0])
    for name in POWER_NAMES:
        if not 0.0 <= scalars[name] <= MAX_POWER_W:
            raise InputError(f"power limit {scalars[name]:g} W is out of range; allowed [0, {MAX_POWER_W:g}] W", source=source, field=name)
    delta = scalars.get("delta", DEFAULT_DELTA) if robust else scalars.get("delta", 0.0)
    if not 0.0 <= delta < 1.0:
        raise InputError(f"must be in [0, 1), got {delta}", source=source, field="delta")
    truth = ChannelSet.from_mapping(arrays)
    design = truth.with_eve(*(arrays.get(f"{p}_e_est", arrays[f"{p}_e"]) for p in "hag"))
    problem = PrecodingProblem.paper(design, scalars["p_s_w"], scalars["p_u_w"], scalars["p_b_w"], eve_error_bound=delta)
    return problem, truth


def _pairs(x: np.ndarray) -> list[list[float]]:
    return [[float(z.real), float(z.imag)] for z in x]


def precode(args: argparse.Namespace) -> int:
    epsilon = DEFAULT_EPSILON if args.epsilon is None else args.epsilon
    if not epsilon > 0:
        raise InputError(f"must be > 0, got {epsilon}", field="--epsilon")
    if args.robust and args.method not in SYNERGY_METHODS:
        raise InputError(f"applies to --method {' or '.join(SYNERGY_METHODS)} only, got {args.method}", field="--robust")
    problem, truth = load_problem(args.channels, args.robust)
    solver = "sdp" if args.robust or args.method == "synergy-sdp" else "vector"
    if args.method in SYNERGY_METHODS and solver == "vector" and args.epsilon is not None:
        print("note: --epsilon is the SCA's tolerance (synergy-sdp, --robust); the vector solver ignores it", file=sys.stderr)
    start = time.perf_counter()
    if args.method in SYNERGY_METHODS:
        precoder = SynergyPrecoder(robust=args.robust, epsilon=epsilon, multi_start=args.robust, solver=solver)
    else:
        precoder = PowerOptimisedBaseline(args.method)
    result = precoder.solve(problem)
    wall_s = time.perf_counter() - start
    achieved = secrecy_rates(truth, result.w, result.f, result.v)
    if args.json:
        print_json({
            "method": result.method, "status": result.status, "iterations": result.iterations,
            "w": _pairs(result.w), "f": _pairs(result.f), "v": _pairs(result.v),
            "rates": achieved.rates, "min_rate": achieved.min_rate,
            "planned_min_rate": result.planned.min_rate, "solve_s": result.solve_s,
            "wall_s": wall_s, "message": result.message,
        })
        return 0
    print(f"method {result.method}  status {result.status}  iterations {result.iterations}  "
          f"solve {result.solve_s * 1e3:.1f} ms  wall {wall_s * 1e3:.1f} ms")
    if result.message:
        print(f"note: {result.message}")
    print(f"{'user':<6}{'planned':>10}{'achieved':>10}  (bit/s/Hz)")
    for user, rate in achieved.rates.items():
        print(f"{user:<6}{result.planned.rates[user]:>10.3f}{rate:>10.3f}")
    print(f"{'min':<6}{result.planned.min_rate:>10.3f}{achieved.min_rate:>10.3f}")
    powers = [float(np.vdot(x, x).real) for x in (result.w, result.f, result.v)]
    print("powers (W): " + "  ".join(f"{n}={p:.4g}" for n, p in zip(("sat", "uav", "bs"), powers)))
    return 0
