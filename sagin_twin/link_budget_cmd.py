"""``sagin-twin link-budget --medium fiber|uav|satellite [--length-km L] [--range-km R] [--elevation-deg E] [--cloudy] [--json]``.

The QKD physics of one link in one line (``physical/qkd_link.py``, the models the simulator uses):
the channel loss excluding and including the detector (dB), the optimal signal intensity μ, the
secret key rate of asymptotic decoy-state BB84 (GLLP with Lo–Ma–Chen decoys) in bit/s, and which
limits bind (the detector count-rate cap, zero key).

- fiber: ``--length-km`` of 0.2 dB/km fiber (one trusted-relay segment); fiber hardware (1 GHz, SNSPDs).
- uav: ``--range-km`` of near-horizontal free-space link; ``--cloudy`` blocks it.
- satellite: ``--range-km`` slant range and ``--elevation-deg`` (default: the elevation of a
  Micius-like satellite 500 km up at that range); ``--cloudy`` blocks it. The terminal is calibrated
  to the Micius link loss (Liao et al., Nature 549, 43 (2017)).

``--json`` prints one object with ``medium, loss_db, loss_with_detector_db, mu, key_rate_bps`` and
more keys; a blocked link has ``loss_db`` null, a link without key ``mu`` null. Bad arguments exit
with status 2 and a one-line message.
"""

from __future__ import annotations

import argparse
import math

from common.errors import InputError
from sagin_twin.stdio import print_json

MEDIA = ("fiber", "uav", "satellite")
MAX_LENGTH_KM = 100_000.0  #: longest fiber accepted (km)
MAX_RANGE_KM = 1_000_000.0  #: longest free-space link accepted (km)
#: which of the optional arguments apply to which medium
APPLIES = {"--length-km": ("fiber",), "--range-km": ("uav", "satellite"), "--elevation-deg": ("satellite",),
           "--cloudy": ("uav", "satellite")}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("link-budget", help="loss, optimal intensity and secret key rate of one QKD link",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--medium", metavar="fiber|uav|satellite", help="the link's medium (required)")
    p.add_argument("--length-km", metavar="L", help=f"fiber length (km, 0–{MAX_LENGTH_KM:g}; fiber only, required)")
    p.add_argument("--range-km", metavar="R", help=f"link distance / slant range (km, > 0, ≤ {MAX_RANGE_KM:g}; uav and satellite, required)")
    p.add_argument("--elevation-deg", metavar="E", help="satellite elevation at the ground station (deg, 0–90; satellite only)")
    p.add_argument("--cloudy", action="store_true", help="a cloud on the line of sight (uav and satellite)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=link_budget_command)


def _number(text: str | None, option: str, low: float, high: float, *, low_open: bool = False) -> float | None:
    """``text`` as a finite number in [low, high] (or (low, high] with ``low_open``), None if absent."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"expected a number, got {text!r}", field=option) from None
    below = value <= low if low_open else value < low
    if not math.isfinite(value) or below or value > high:
        interval = f"({low:g}, {high:g}]" if low_open else f"[{low:g}, {high:g}]"
        raise InputError(f"must be a finite number in {interval}, got {text!r}", field=option)
    return value


def _check(args: argparse.Namespace) -> tuple[str, float | None, float | None, float | None]:
    """Validate the arguments; returns (medium, length_km, range_km, elevation_deg)."""
    if args.medium is None:
        raise InputError(f"required; one of {', '.join(MEDIA)}", field="--medium")
    if args.medium not in MEDIA:
        raise InputError(f"unknown medium {args.medium!r}; one of {', '.join(MEDIA)}", field="--medium")
    given = {"--length-km": args.length_km is not None, "--range-km": args.range_km is not None,
             "--elevation-deg": args.elevation_deg is not None, "--cloudy": args.cloudy}
    for option, media in APPLIES.items():
        if given[option] and args.medium not in media:
            raise InputError(f"does not apply to --medium {args.medium} (only to {', '.join(media)})", field=option)
    length_km = _number(args.length_km, "--length-km", 0.0, MAX_LENGTH_KM)
    range_km = _number(args.range_km, "--range-km", 0.0, MAX_RANGE_KM, low_open=True)
    elevation_deg = _number(args.elevation_deg, "--elevation-deg", 0.0, 90.0)
    if args.medium == "fiber" and length_km is None:
        raise InputError("required for --medium fiber (km)", field="--length-km")
    if args.medium != "fiber" and range_km is None:
        raise InputError(f"required for --medium {args.medium} (km)", field="--range-km")
    return args.medium, length_km, range_km, elevation_deg


def link_budget_command(args: argparse.Namespace) -> int:
    medium, length_km, range_km, elevation_deg = _check(args)
    from physical.qkd_link import elevation_at_range_rad, link_budget

    if medium == "satellite" and elevation_deg is None:
        try:
            elevation_deg = math.degrees(elevation_at_range_rad(range_km * 1e3))
        except ValueError as exc:
            raise InputError(f"{exc}; give --elevation-deg", field="--range-km") from None
    budget = link_budget(
        medium, length_m=None if length_km is None else length_km * 1e3,
        range_m=None if range_km is None else range_km * 1e3,
        elevation_rad=None if elevation_deg is None else math.radians(elevation_deg), cloudy=args.cloudy)
    key, hardware = budget.key, budget.hardware
    blocked = budget.transmittance <= 0.0
    if args.json:
        print_json({
            "medium": medium, "length_km": length_km, "range_km": range_km, "elevation_deg": elevation_deg,
            "cloudy": bool(args.cloudy), "blocked": blocked,
            "loss_db": None if blocked else budget.loss_db,
            "loss_with_detector_db": None if blocked else budget.loss_with_detector_db,
            "detector_efficiency": hardware.detector_efficiency,
            "mu": None if budget.zero_key else key.mu, "key_rate_bps": key.rate_bps,
            "key_per_pulse_bits": key.per_pulse, "clock_hz": hardware.clock_hz,
            "count_rate_cap_bps": budget.cap_bps, "capped": bool(key.capped), "zero_key": budget.zero_key,
        })
        return 0
    if medium == "fiber":
        where = f"fiber {length_km:g} km"
    elif medium == "uav":
        where = f"uav link {range_km:g} km"
    else:
        where = f"satellite downlink {range_km:g} km slant range at {elevation_deg:.1f} deg elevation"
    sky = "" if medium == "fiber" else (", cloudy" if args.cloudy else ", clear sky")
    print(f"{where}{sky}")
    if blocked:
        reason = "a cloud on the line of sight" if args.cloudy else "the satellite is at the horizon"
        print(f"loss: blocked ({reason})")
    else:
        print(f"loss {budget.loss_db:.2f} dB excluding the detector, {budget.loss_with_detector_db:.2f} dB with it "
              f"(detector efficiency {hardware.detector_efficiency:g})")
    if budget.zero_key:
        print("optimal signal intensity: none (no key)")
    else:
        print(f"optimal signal intensity mu {key.mu:.3f} photons/pulse")
    print(f"secret key rate {key.rate_bps:,.1f} bit/s ({key.per_pulse:.3g} bit/pulse at {hardware.clock_hz:g} Hz; "
          f"decoy-state BB84, f {hardware.ec_inefficiency:g}, sifting {hardware.sifting_factor:g})")
    limits = [f"count-rate cap {'BINDS' if key.capped else 'not binding'} ({budget.cap_bps:,.0f} bit/s)",
              "zero key" if budget.zero_key else "key > 0"]
    print("limits: " + "; ".join(limits))
    return 0
