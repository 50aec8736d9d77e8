"""`CallFactors`: the factor results of each call, for the verification-level fusion to read.

Held by the factors router's owner (one per app, no module state); bounded like the call
service's finished results, oldest calls forgotten first. Calls are pinned to one replica by
call id, so a call's results are where its other evidence is. Listeners hear of each new
result (the call service republishes the call, whose level may have changed).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

KEEP_CALLS = 10_000


@dataclass(frozen=True, slots=True)
class FactorResult:
    """factor: "pin", "dob", "answer" or "otp"; verified or not, and when."""

    factor: str
    verified: bool
    at: datetime


class CallFactors:
    def __init__(self, keep: int = KEEP_CALLS) -> None:
        self._keep = keep
        self._calls: OrderedDict[str, list[FactorResult]] = OrderedDict()
        self.listeners: list[Callable[[str], None]] = []

    def record(self, call_id: str, result: FactorResult) -> None:
        self._calls.setdefault(call_id, []).append(result)
        self._calls.move_to_end(call_id)
        while len(self._calls) > self._keep:
            self._calls.popitem(last=False)
        for listener in self.listeners:
            listener(call_id)

    def results(self, call_id: str) -> tuple[FactorResult, ...]:
        return tuple(self._calls.get(call_id, ()))

    def verified(self, call_id: str) -> tuple[str, ...]:
        """The factors the call has passed, each once, in the order first passed."""
        passed = (r.factor for r in self._calls.get(call_id, ()) if r.verified)
        return tuple(dict.fromkeys(passed))
