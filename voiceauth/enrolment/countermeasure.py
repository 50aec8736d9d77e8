"""The countermeasure hook: no voiceprint from speech a spoofing detector flags.

Enrolling a voice clone would let its maker pass as the customer forever after, so enrolment
asks a countermeasure (when one is configured) before any voiceprint is stored. The liveness
package plugs its detector in here; until then `countermeasure=None` skips the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class SpoofVerdict:
    """spoof: the detector is clearly against bona fide speech; llr: its evidence, if any
    (natural log, bona fide vs spoof), kept for the audit trail of a refusal."""

    spoof: bool
    llr: float | None = None


class Countermeasure(Protocol):
    """Judge net speech, (n,) float32 in [-1, 1] at `sample_rate` Hz."""

    def __call__(self, speech: npt.NDArray[np.float32], sample_rate: int) -> SpoofVerdict: ...
