"""QKD service planning (Kaewpuang et al.; Xu et al.; shared/DESIGN.md section 2): a two-stage
stochastic program for routing requests and reserving QKD/KM wavelengths, solved as a
deterministic-equivalent MILP with HiGHS. Pure solver code, no SimPy.

Modules: ``instance`` (load and validate a TOML instance), ``pricing`` (per-wavelength prices from
component counts and Table I), ``milp`` (build and solve), ``metrics`` (VSS and EVPI).
"""

from twin.qkd.instance import QkdInstance
from twin.qkd.milp import PlanOptions, PlanResult, solve_plan

__all__ = ["QkdInstance", "PlanOptions", "PlanResult", "solve_plan"]
