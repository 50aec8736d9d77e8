"""The fitted spoof-aware fusion: soft-minimum parameters, thresholds, and its JSON file.

A fusion file is only valid for the voice calibration's embedder and the countermeasure it was
fitted with: it records both (`id@version`) and `check_models` refuses others, as a calibration
does. The decision rule, in order:

1. spoof: the countermeasure LLR is at or below `spoof` (few live callers fall there);
2. undecided: no voice score yet;
3. reject: the fused LLR is at or below `reject` (either score clearly against);
4. undecided: no liveness score yet (a missing countermeasure LLR counts as 0, no evidence, in
   the fused LLR, so it can reject but never accept);
5. accept: the fused LLR is at or above `accept`;
6. undecided otherwise: a call keeps listening and asks again with more speech.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from voiceauth.errors import ConfigError, EmbedderMismatch
from voiceauth.fusion import decision as words
from voiceauth.fusion.decision import FusedDecision, Outcome
from voiceauth.fusion.softmin import SoftMinParams, fused_llr, terms

FUSION_KIND = "voiceauth.fusion"
FUSION_FORMAT_VERSION = 1
_FIELDS = (
    "voice_model",
    "cm_model",
    "params",
    "thresholds",
    "operating_points",
    "fitted_on",
    "created",
    "format_version",
)


@dataclass(frozen=True, slots=True)
class OperatingPoints:
    """The rates the thresholds are fitted for, as fractions of the fitting trials.

    accept_fmr: non-targets accepted; accept_spoof_rate: spoofs accepted (accept threshold is
    the stricter of the two); reject_fnmr: targets rejected at the reject threshold;
    spoof_bonafide_rate: live callers (target trials) called spoof.
    """

    accept_fmr: float = 0.01
    accept_spoof_rate: float = 0.01
    reject_fnmr: float = 0.02
    spoof_bonafide_rate: float = 0.01

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not 0.0 < value < 1.0:
                raise ConfigError(f"fusion operating point {name} must be in (0, 1), got {value}")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """accept >= reject on the fused LLR; spoof on the countermeasure LLR."""

    accept: float
    reject: float
    spoof: float

    def __post_init__(self) -> None:
        if not all(math.isfinite(x) for x in (self.accept, self.reject, self.spoof)):
            raise ConfigError(f"fusion thresholds must be finite: {self}")
        if self.reject > self.accept:
            raise ConfigError(
                f"fusion reject threshold {self.reject} is above accept {self.accept}"
            )


@dataclass(frozen=True, slots=True)
class SpoofAwareFusion:
    """voice_model / cm_model: `id@version` of the embedder and countermeasure whose calibrated
    LLRs it fuses; fitted_on: which trials; created: ISO date from the caller."""

    voice_model: str
    cm_model: str
    params: SoftMinParams
    thresholds: Thresholds
    operating_points: OperatingPoints
    fitted_on: str
    created: str
    format_version: int = FUSION_FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.format_version != FUSION_FORMAT_VERSION:
            raise ConfigError(
                f"fusion format_version {self.format_version!r} unknown; "
                f"this voiceauth reads {FUSION_FORMAT_VERSION}"
            )
        if not self.voice_model or not self.cm_model:
            raise ConfigError("fusion voice_model and cm_model (id@version) must not be empty")
        try:
            datetime.fromisoformat(self.created)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"fusion created={self.created!r} is not an ISO date") from exc

    def check_models(self, voice_model: str, cm_model: str) -> None:
        """Raise EmbedderMismatch unless the LLRs come from the models this was fitted for."""
        if voice_model != self.voice_model:
            raise EmbedderMismatch(self.voice_model, voice_model)
        if cm_model != self.cm_model:
            raise EmbedderMismatch(self.cm_model, cm_model)

    def score(self, voice_llr: npt.ArrayLike, cm_llr: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Fused LLRs, elementwise (for evaluation; a call uses `decide`)."""
        return fused_llr(self.params, voice_llr, cm_llr)

    def decide(self, voice_llr: float | None, cm_llr: float | None) -> FusedDecision:
        """The outcome for the evidence so far (see the module docstring for the rule)."""
        if cm_llr is not None and cm_llr <= self.thresholds.spoof:
            reasons: tuple[str, ...] = (words.SYNTHETIC,)
            if voice_llr is not None and voice_llr > 0:
                reasons += (words.VOICE_RESEMBLES,)
            score = None if voice_llr is None else float(self.score(voice_llr, cm_llr))
            return FusedDecision(Outcome.SPOOF, score, reasons)
        if voice_llr is None:
            pending: tuple[str, ...] = (words.VOICE_PENDING,)
            if cm_llr is None:
                pending += (words.LIVENESS_PENDING,)
            return FusedDecision(Outcome.UNDECIDED, None, pending)
        evidence = 0.0 if cm_llr is None else cm_llr
        score = float(self.score(voice_llr, evidence))
        if score <= self.thresholds.reject:
            nontarget, spoof = terms(self.params, voice_llr, evidence)
            main = words.VOICE_DIFFERS if nontarget >= spoof else words.DOUBTFUL
            return FusedDecision(Outcome.REJECT, score, (main,))
        if cm_llr is None:
            # the voice alone bounds the fused LLR from above: -(b_nontarget - w_voice v)
            voice_only = -float(terms(self.params, voice_llr, evidence)[0])
            matches = (words.VOICE_MATCHES,) if voice_only >= self.thresholds.accept else ()
            return FusedDecision(Outcome.UNDECIDED, score, (*matches, words.LIVENESS_PENDING))
        if score >= self.thresholds.accept:
            return FusedDecision(Outcome.ACCEPT, score, (words.VOICE_MATCHES, words.LIVE))
        return FusedDecision(Outcome.UNDECIDED, score, (words.NOT_CLEAR,))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write as versioned JSON (floats round-trip exactly)."""
        doc: dict[str, Any] = {"kind": FUSION_KIND, **asdict(self)}
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(doc, indent=2, allow_nan=False) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SpoofAwareFusion:
        """Read a file written by `save`; anything else raises ConfigError naming the defect."""
        where = repr(os.fspath(path))
        try:
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"fusion file {where} is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("kind") != FUSION_KIND:
            raise ConfigError(f"fusion file {where}: expected a JSON object of kind {FUSION_KIND}")
        missing = [name for name in _FIELDS if name not in doc]
        unknown = sorted(set(doc) - set(_FIELDS) - {"kind"})
        if missing or unknown:
            raise ConfigError(
                f"fusion file {where}: missing fields {missing}, unknown fields {unknown}"
            )
        try:
            return cls(
                voice_model=str(doc["voice_model"]),
                cm_model=str(doc["cm_model"]),
                params=SoftMinParams(**_numbers(doc["params"])),
                thresholds=Thresholds(**_numbers(doc["thresholds"])),
                operating_points=OperatingPoints(**_numbers(doc["operating_points"])),
                fitted_on=str(doc["fitted_on"]),
                created=str(doc["created"]),
                format_version=doc["format_version"],
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"fusion file {where}: {exc}") from exc


def _numbers(section: object) -> dict[str, float]:
    if not isinstance(section, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in section.values()
    ):
        raise TypeError(f"expected an object of numbers, got {section!r}")
    return {str(k): float(v) for k, v in section.items()}
