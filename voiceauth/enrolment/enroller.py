"""Active and passive enrolment, and refinement, behind the consent gate.

Order matters: consent is checked before anything touches the voice (GDPR Art. 9: without
explicit consent, no biometric processing, and computing an embedding *is* processing), then
the cheap number gates (speech, quality), then the countermeasure, and only then are speech
windows embedded for the one-talker check and the voiceprint. The store re-checks consent in
the transaction that saves, so a withdrawal racing an enrolment still wins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from voiceauth.audio.channel import Channel, through
from voiceauth.audio.frontend import extract_speech
from voiceauth.audio.io import Audio
from voiceauth.audio.vad import SileroVad
from voiceauth.embeddings.base import Embedder, Embedding, Vector, mean_embedding
from voiceauth.enrolment import gates
from voiceauth.enrolment.countermeasure import Countermeasure
from voiceauth.enrolment.outcome import EnrolmentOutcome, EnrolmentResult, Rejection
from voiceauth.enrolment.policy import EnrolmentPolicy
from voiceauth.enrolment.refine import refine_vector
from voiceauth.errors import NoConsent
from voiceauth.store.records import VoiceprintInfo
from voiceauth.store.service import VoiceprintStore

log = logging.getLogger(__name__)


class Enroller:
    """Turns a consented customer's speech into a stored voiceprint, or says why not.

    `on_saved` is told after each committed save (a cohort index follows enrolments with it).
    """

    def __init__(
        self,
        store: VoiceprintStore,
        embedder: Embedder,
        *,
        policy: EnrolmentPolicy | None = None,
        countermeasure: Countermeasure | None = None,
        on_saved: Callable[[VoiceprintInfo, Embedding], None] | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self.policy = policy or EnrolmentPolicy()
        self._countermeasure = countermeasure
        self._on_saved = on_saved

    @property
    def model(self) -> str:
        return f"{self._embedder.embedder_id}@{self._embedder.version}"

    def enrol_recordings(
        self,
        customer_id: str,
        recordings: Sequence[Audio],
        vad: SileroVad,
        *,
        actor: str,
        channel: Channel = "wideband",
    ) -> EnrolmentResult:
        """Active enrolment from dedicated recordings; quality gates use the worst recording.

        channel: the one calls are heard through; the voiceprint is made from the recordings
        as that channel renders them, while quality is judged on the recordings as made.
        """
        if not self._store.has_consent(customer_id):
            return _refused(customer_id, Rejection(EnrolmentOutcome.NO_CONSENT, "no consent"))
        rate = self._embedder.sample_rate
        cuts = [extract_speech(a, vad, sample_rate=rate, min_speech_s=0.0) for a in recordings]
        heard = (
            cuts
            if channel == "wideband"
            else [
                extract_speech(through(a, channel), vad, sample_rate=rate, min_speech_s=0.0)
                for a in recordings
            ]
        )
        return self.enrol_speech(
            customer_id,
            [c.samples for c in heard],
            snr_db=min((c.quality.snr_db for c in cuts), default=0.0),
            clipping_ratio=max((c.quality.clipping_ratio for c in cuts), default=0.0),
            actor=actor,
        )

    def enrol_speech(
        self,
        customer_id: str,
        chunks: Sequence[Vector],
        *,
        snr_db: float,
        clipping_ratio: float,
        actor: str,
        source_call_ids: Sequence[str] = (),
    ) -> EnrolmentResult:
        """Enrol from net speech chunks at the embedder's rate (passive: a consented call's
        caller track, `source_call_ids` naming the call); replaces an existing voiceprint."""
        if not self._store.has_consent(customer_id):
            return _refused(customer_id, Rejection(EnrolmentOutcome.NO_CONSENT, "no consent"))
        net_s = sum(len(c) for c in chunks) / self._embedder.sample_rate
        rejection = gates.check_speech(net_s, self.policy.min_net_speech_s) or gates.check_quality(
            snr_db, clipping_ratio, self.policy
        )
        rejection = rejection or self._spoof_check(chunks)
        if rejection is not None:
            return _refused(customer_id, rejection, net_s)
        window = int(self.policy.window_s * self._embedder.sample_rate)
        windows = gates.speech_windows(chunks, window=window)
        embeddings = self._embedder.embed_batch(windows)
        lowest: float | None = None
        if len(embeddings) >= 2:
            cosines = gates.leave_one_out_cosines(np.stack([e.vector for e in embeddings]))
            lowest = float(cosines.min())
            inconsistent = gates.check_consistency(
                cosines, self.policy.consistency_threshold
            ) or gates.check_split(
                gates.two_group_cosine(np.stack([e.vector for e in embeddings])),
                self.policy.split_threshold,
            )
            if inconsistent is not None:
                return _refused(customer_id, inconsistent, net_s, lowest)
        voiceprint = mean_embedding(embeddings)
        return self._save(
            customer_id,
            voiceprint,
            EnrolmentOutcome.ENROLLED,
            actor=actor,
            source_call_ids=source_call_ids,
            snr_db=snr_db,
            lowest=lowest,
        )

    def refine(
        self,
        customer_id: str,
        chunks: Sequence[Vector],
        *,
        call_id: str,
        snr_db: float,
        clipping_ratio: float,
        actor: str,
    ) -> EnrolmentResult:
        """Move the voiceprint towards a verified call's speech (see `refine` for the bounds).

        The caller vouches that the call was verified; the speech must still pass the gates
        and resemble the voiceprint (`refine_min_cosine`), or nothing changes.
        """
        if not self._store.has_consent(customer_id):
            return _refused(customer_id, Rejection(EnrolmentOutcome.NO_CONSENT, "no consent"))
        policy = self.policy
        net_s = sum(len(c) for c in chunks) / self._embedder.sample_rate
        rejection = gates.check_speech(net_s, policy.refine_min_speech_s) or gates.check_quality(
            snr_db, clipping_ratio, policy
        )
        rejection = rejection or self._spoof_check(chunks)
        if rejection is not None:
            return _refused(customer_id, rejection, net_s)
        try:
            old = self._store.load_voiceprint(customer_id, self.model, actor=actor, call_id=call_id)
        except NoConsent:
            return _refused(customer_id, Rejection(EnrolmentOutcome.NO_CONSENT, "no consent"))
        if old is None:
            return _refused(
                customer_id,
                Rejection(EnrolmentOutcome.NOT_ENROLLED, f"no voiceprint for {self.model}"),
                net_s,
            )
        new = self._embedder.embed(np.concatenate([np.asarray(c) for c in chunks]))
        cosine = float(gates.leave_one_out_cosines(np.stack([old.vector, new.vector]))[0])
        if cosine < policy.refine_min_cosine:
            return _refused(
                customer_id,
                Rejection(
                    EnrolmentOutcome.INCONSISTENT_SPEAKER,
                    f"call speech does not match the voiceprint closely enough to refine it "
                    f"(cosine {cosine:.2f} < {policy.refine_min_cosine:.2f})",
                ),
                net_s,
                cosine,
            )
        vector, weight = refine_vector(
            old.vector,
            old.net_speech_s,
            new.vector,
            net_s,
            max_share=policy.max_refine_share,
            max_weight_s=policy.max_weight_s,
        )
        previous = {v.model: v for v in self._store.voiceprints(customer_id)}.get(self.model)
        calls = [*(previous.source_call_ids if previous else ()), call_id]
        old_snr = previous.snr_db if previous and previous.snr_db is not None else snr_db
        return self._save(
            customer_id,
            Embedding(old.embedder_id, old.version, vector, weight),
            EnrolmentOutcome.REFINED,
            actor=actor,
            source_call_ids=calls,
            snr_db=min(old_snr, snr_db),
            lowest=cosine,
        )

    def _spoof_check(self, chunks: Sequence[Vector]) -> Rejection | None:
        if self._countermeasure is None:
            return None
        speech = np.concatenate([np.asarray(c, dtype=np.float32) for c in chunks])
        verdict = self._countermeasure(speech, self._embedder.sample_rate)
        if verdict.spoof:
            return Rejection(EnrolmentOutcome.SPOOF, "the countermeasure flagged the speech")
        return None

    def _save(
        self,
        customer_id: str,
        voiceprint: Embedding,
        outcome: EnrolmentOutcome,
        *,
        actor: str,
        source_call_ids: Sequence[str],
        snr_db: float,
        lowest: float | None,
    ) -> EnrolmentResult:
        try:
            info = self._store.save_voiceprint(
                customer_id,
                voiceprint,
                actor=actor,
                source_call_ids=source_call_ids,
                snr_db=round(float(snr_db), 2),
            )
        except NoConsent:
            # Withdrawn between our check and the save: the store refused, nothing was kept.
            return _refused(
                customer_id,
                Rejection(EnrolmentOutcome.NO_CONSENT, "consent withdrawn during enrolment"),
                voiceprint.net_speech_s,
            )
        if self._on_saved is not None:
            self._on_saved(info, voiceprint)
        log.info("voiceprint %s for customer %s (%s)", outcome.value, customer_id, info.model)
        return EnrolmentResult(outcome, outcome.value, info.net_speech_s, lowest, info)


def _refused(
    customer_id: str,
    rejection: Rejection,
    net_speech_s: float = 0.0,
    lowest: float | None = None,
) -> EnrolmentResult:
    log.info("enrolment of customer %s refused: %s", customer_id, rejection.outcome.value)
    return EnrolmentResult(rejection.outcome, rejection.reason, net_speech_s, lowest)
