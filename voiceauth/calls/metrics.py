"""The service's Prometheus metrics, in one registry per service instance.

A registry per instance (not prometheus_client's global one) lets tests run several services
in one process and read exact counts. Transports count what arrives and what they refuse;
the call service counts calls and decisions, and at each call's end its outcome: level and
route, audio and net speech to the voice decision, time to a verified level, and whether the
countermeasure rejected the voice.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from voiceauth.calls.snapshot import CallSnapshot, VoiceState

SECONDS = (2.0, 3.0, 5.0, 8.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 120.0)

MALFORMED_KINDS = (
    "rtp_header",
    "rtp_payload",
    "rtp_unknown_ssrc",
    "rtp_unknown_payload_type",
    "ws_message",
    "ws_signature",
    "ws_auth",
    "api_key",
    "audiohook_sequence",
    "audiohook_position",
    "audiohook_paused",
    "audiohook_media",
    "audiohook_conflict",
    "oversized",
    "audiosocket",
    "closed_call",
)
"""Kinds of refused input; a transport may add its own, these are the documented ones."""


class CallMetrics:
    """active_calls, frames, packets lost/late, malformed input by kind, decision latency."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.active_calls = Gauge(
            "voiceauth_active_calls", "Calls open now", registry=self.registry
        )
        self.calls = Counter(
            "voiceauth_calls", "Calls started", ["transport"], registry=self.registry
        )
        self.frames = Counter(
            "voiceauth_frames",
            "Audio frames received, by transport and track",
            ["transport", "track"],
            registry=self.registry,
        )
        self.packets_lost = Counter(
            "voiceauth_packets_lost",
            "RTP packets never received (concealed)",
            ["transport"],
            registry=self.registry,
        )
        self.packets_late = Counter(
            "voiceauth_packets_late",
            "RTP packets that arrived after their slot was played out (dropped)",
            ["transport"],
            registry=self.registry,
        )
        self.malformed = Counter(
            "voiceauth_malformed_input",
            "Input refused as malformed, unknown or unauthenticated, by kind",
            ["transport", "kind"],
            registry=self.registry,
        )
        self.rejected_calls = Counter(
            "voiceauth_rejected_calls",
            "Calls refused (draining, full, bad signature)",
            ["transport", "reason"],
            registry=self.registry,
        )
        self.decision_latency = Histogram(
            "voiceauth_update_latency_seconds",
            "Time from a frame's arrival to the state update it causes",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.outcomes = Counter(
            "voiceauth_call_outcomes",
            "Ended calls by final verification level and route",
            ["level", "route"],
            registry=self.registry,
        )
        self.audio_to_decision = Histogram(
            "voiceauth_audio_to_decision_seconds",
            "Seconds of call audio received when the voice decision was announced",
            buckets=SECONDS,
            registry=self.registry,
        )
        self.speech_to_decision = Histogram(
            "voiceauth_speech_to_decision_seconds",
            "Seconds of net speech when the voice decision was announced",
            buckets=SECONDS,
            registry=self.registry,
        )
        self.time_to_verified = Histogram(
            "voiceauth_time_to_verified_seconds",
            "Seconds from a call's start to its first verified level",
            buckets=SECONDS,
            registry=self.registry,
        )
        self.countermeasure_rejections = Counter(
            "voiceauth_countermeasure_rejections",
            "Ended calls whose voice the countermeasure judged synthetic or replayed",
            registry=self.registry,
        )

    def refuse(self, transport: str, kind: str) -> None:
        """Count one refused input."""
        self.malformed.labels(transport=transport, kind=kind).inc()

    def observe_outcome(self, final: CallSnapshot) -> None:
        """Count an ended call once, by what it ended as."""
        if final.assessment is not None:
            self.outcomes.labels(str(final.assessment.level), final.assessment.route).inc()
        if final.decided_after_audio_s is not None:
            self.audio_to_decision.observe(final.decided_after_audio_s)
        if final.decided_after_speech_s is not None:
            self.speech_to_decision.observe(final.decided_after_speech_s)
        if final.verified_after_s is not None:
            self.time_to_verified.observe(final.verified_after_s)
        if final.voice_state is VoiceState.SPOOF:
            self.countermeasure_rejections.inc()

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
