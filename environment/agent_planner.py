"""A QKD planner whose decisions come from agents: the same host, view, forecast, row and command as the program's.

:class:`AgentQkdPlanner` is the core-cloud twin's :class:`twin.qkd_planner.QkdPlanner` with two
things replaced: *when* it decides (whenever the environment hands it actions, at the host's next
trigger check) and *what* (:func:`environment.decisions.build_decision` instead of the two-stage
program). Everything else — the pool and weather view, the forecast instance, the compute delay
and the decision link, the ``qkd_plan`` / ``qkd_route`` / ``qkd_reserved`` rows and the command the
network executes — is the planner's own, so an agent is judged exactly like the program.

Hierarchy: a planning action (routes and reservations) is taken only at the planning agent's turn
and then kept; between turns the provider agents' on-demand levels change only the on-demand
capacity (a new plan command with the same routes and reservations: the network charges each
command's reservation pro rata to the time it is in force, so the reservation is paid once per epoch).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from twin.core import Attempt
from twin.qkd_planner import QkdPlanner

from environment.decisions import ActionSets, AgentDecision, PlanChoice, build_decision

#: the ``qkd_plan.status`` of an agent's decision
STATUS_AGENT = "agent"


@dataclass
class Pending:
    """The actions the environment handed over for the next trigger check.

    Args:
        plan: the planning agent's choice (None: not its turn, keep the routes and reservations in force).
        ondemand: medium → on-demand level index of its provider.
    """

    plan: PlanChoice | None
    ondemand: dict[str, int]


class AgentQkdPlanner(QkdPlanner):
    """The QKD planner deciding on the agents' actions (module docstring).

    Args: those of :class:`QkdPlanner`, and ``sets``: the action sets the indices refer to.
    """

    def __init__(self, *args, sets: ActionSets, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sets = sets
        self.pending: Pending | None = None
        self.in_force: AgentDecision | None = None

    def hand_over(self, pending: Pending) -> None:
        """Actions for the next trigger check (the environment calls this once per step)."""
        self.pending = pending

    def due(self, now_s: float) -> str | None:
        """``agent_plan`` or ``agent_ondemand`` when actions are waiting and the network has reported, else None."""
        self._now_s = now_s
        if self.report is None or self.pending is None:
            return None
        return "agent_plan" if self.pending.plan is not None or self.in_force is None else "agent_ondemand"

    def decide(self, inputs: dict[str, object]) -> Attempt:
        """The agents' decision on the twin's planning instance (no solver)."""
        pending, self.pending = self.pending, None
        if pending.plan is None and self.in_force is not None:  # the providers' turn only: new on-demand capacity
            fresh = build_decision(self.network, inputs["instance"], self.sets, PlanChoice({}, {}), pending.ondemand, {})
            decision = dataclasses.replace(self.in_force, ondemand_capacity_qkd=fresh.ondemand_capacity_qkd,
                                           ondemand_capacity_km=fresh.ondemand_capacity_km)
        else:
            decision = build_decision(self.network, inputs["instance"], self.sets, pending.plan or PlanChoice({}, {}),
                                      pending.ondemand, self.forecast_means_bps())
        return Attempt(STATUS_AGENT, "", decision)

    def usable(self, attempt: Attempt, status: str) -> bool:
        return attempt.result is not None

    def record(self, now_s: float, trigger: str, attempt: Attempt, status: str, fallback: str,
               decision: object | None) -> tuple[dict[str, object], dict[str, float]]:
        """The ``qkd_plan`` row of an agent's decision (no objective: nothing was optimised)."""
        agent = attempt.result
        fields = {
            **self.forecast_fields(trigger, status, fallback, attempt.inputs),
            "unserved_scenarios": 0,
            "oldest_input_age_s": now_s - attempt.inputs["oldest_s"],
            "objective": math.nan,
            "first_stage_cost": agent.first_stage_cost if agent is not None else math.nan,
            "expected_second_stage_cost": math.nan,
            "reserved_qkd": sum(agent.reserved_qkd.values()) if agent is not None else 0,
            "reserved_km": sum(agent.reserved_km.values()) if agent is not None else 0,
            "message": attempt.message,
        }
        return fields, {"solve_s": 0.0, "build_s": 0.0}

    def command_for(self, decision: object, inputs: dict[str, object], now_s: float):
        """The plan command of an agent's decision (the fallback's as the program planner's)."""
        if not isinstance(decision, AgentDecision):
            return super().command_for(decision, inputs, now_s)
        self.in_force = decision
        base = self._command(inputs["plan_id"], inputs["instance"], None, now_s, inputs["oldest_s"], routes=decision.routes)
        return dataclasses.replace(base, reserved_qkd=dict(decision.reserved_qkd), reserved_km=dict(decision.reserved_km),
                                   ondemand_capacity_qkd=dict(decision.ondemand_capacity_qkd),
                                   ondemand_capacity_km=dict(decision.ondemand_capacity_km),
                                   first_stage_cost=decision.first_stage_cost)
