"""The service's Prometheus metrics, in one registry per service instance.

A registry per instance (not prometheus_client's global one) lets tests run several services
in one process and read exact counts. Transports count what arrives and what they refuse;
the call service counts calls and decisions.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

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
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )

    def refuse(self, transport: str, kind: str) -> None:
        """Count one refused input."""
        self.malformed.labels(transport=transport, kind=kind).inc()

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
