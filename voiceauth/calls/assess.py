"""`CallAssessor`: a call's voice state joined with its other factors into a level and route.

Every snapshot anyone outside the call service sees (the API, the live streams, the webhook,
the platform's flow variables, the stored outcome) goes through it, so the level an agent
reads and the one the IVR routes on are the same, under the policy in force at that moment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from voiceauth.calls.snapshot import CallSnapshot, VoiceState
from voiceauth.factors.knowledge import KnowledgeKind
from voiceauth.factors.results import CallFactors
from voiceauth.fusion.levels import DEFAULT_POLICY, Evidence, LevelPolicy

KNOWLEDGE = frozenset(kind.value for kind in KnowledgeKind)


class CallAssessor:
    """policy: the current level policy (a `PolicyFile.current`, so edits apply live)."""

    def __init__(
        self,
        results: CallFactors | None = None,
        policy: Callable[[], LevelPolicy] | None = None,
    ) -> None:
        self.results = results if results is not None else CallFactors()
        self.policy = policy if policy is not None else _fixed(LevelPolicy.load(DEFAULT_POLICY))

    def __call__(self, snapshot: CallSnapshot) -> CallSnapshot:
        passed = self.results.verified(snapshot.call_id)
        evidence = Evidence(
            identified=snapshot.customer_id is not None,
            knowledge=bool(KNOWLEDGE & set(passed)),
            otp="otp" in passed,
            eid="eid" in passed,
            voice_match=snapshot.voice_state is VoiceState.MATCH,
            spoof=snapshot.voice_state is VoiceState.SPOOF,
            watchlist_hit=snapshot.watchlist_hit,
        )
        assessed = self.policy().assess(evidence, dnis=snapshot.dnis)
        return replace(snapshot, factors_verified=passed, assessment=assessed)


def _fixed(policy: LevelPolicy) -> Callable[[], LevelPolicy]:
    def current() -> LevelPolicy:
        return policy

    return current
