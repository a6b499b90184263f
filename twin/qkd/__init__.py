"""QKD service planning (Kaewpuang et al.; Xu et al.; shared/DESIGN.md section 2): a two-stage
stochastic program for routing requests and reserving QKD/KM wavelengths, solved as a
deterministic-equivalent MILP with HiGHS. Pure solver code, no SimPy.

Modules: ``instance`` (load and validate a TOML instance), ``pricing`` (per-wavelength prices from
component counts and Table I), ``plan`` (options and result), the MILP pipeline
``formulation`` → ``fixings`` → ``solve`` (with ``polish`` and ``recourse_cuts``) → ``extraction``
chained by ``planner`` (``topology`` and ``lp_builder`` are its index tables and matrix assembly),
``diagnosis`` (why an instance has no plan), ``metrics`` (VSS and EVPI), ``forecast`` and ``docs``.
"""

from twin.qkd.instance import QkdInstance
from twin.qkd.plan import PlanOptions, PlanResult
from twin.qkd.planner import solve_plan

__all__ = ["QkdInstance", "PlanOptions", "PlanResult", "solve_plan"]
