"""Configuration: one validated `Settings`, read from `VOICEAUTH_*` environment variables.

Library code never reads the environment; the CLI (and later the service) builds `Settings`
once with `load_settings` and passes plain values down. The environment is injectable for tests,
and an unknown `VOICEAUTH_*` key is an error naming it, not a silently ignored typo.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from voiceauth.audio.channel import Channel
from voiceauth.errors import ConfigError
from voiceauth.fusion.levels import DEFAULT_POLICY

EmbedderName = Literal["auto", "ecapa", "ge2e"]
ENV_PREFIX = "VOICEAUTH_"


class Settings(BaseModel):
    """Everything an operator can set, with the embedded defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    home: Path = Path.home() / ".local" / "share" / "voiceauth"
    embedder: EmbedderName = "auto"
    channel: Channel = "telephony"
    """The channel voiceprints are made and checked in: recordings uploaded for enrolment or
    verification pass it first, to match the calls and the shipped telephony calibration."""
    ecapa_dir: Path | None = None
    database_url: str | None = None
    keys: SecretStr | None = None
    key_file: Path | None = None
    api_keys: SecretStr | None = None
    # The live call service (`voiceauth serve`)
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str | None = None
    """The service's base URL as platforms reach it (Twilio signs the URL it connects to)."""
    media_host: str | None = None
    """The address platforms send RTP to (NAT or load balancer); default `host`."""
    rtp_ports: str = "40000-40999"
    """UDP port range handed out to RTP calls, one port per call."""
    audiosocket_port: int = Field(default=9092, ge=0, le=65535)
    """Asterisk AudioSocket TCP port; 0 turns the listener off."""
    twilio_auth_token: SecretStr | None = None
    audiohook_client_secret: SecretStr | None = None
    """Base64 secret of the AudioHook integration, the key of its HTTP message signatures."""
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    models_dir: Path | None = None
    """Calibration, thresholds and countermeasure files; default: the `models/` shipped here."""
    cm: str = "ensemble"
    """The countermeasure calls run ("none" turns liveness off); see voiceauth.liveness."""
    cm_dir: Path | None = None
    """Its weights and calibration; default: the one shipped under `models/`."""
    level_policy: Path | None = None
    """Verification levels and routes per service line (YAML, reloaded on change); default:
    the policy shipped in voiceauth/fusion/levels.yaml."""
    crm_url: str | None = None
    """Caller-ID lookup in the operator's CRM for numbers not in the local table: a URL
    template with {ani}, e.g. https://crm.example/api/customers?phone={ani}."""
    crm_customer_field: str = "customer_id"
    """Dotted path of the customer id in the CRM's JSON answer."""
    crm_token: SecretStr | None = None
    crm_timeout_s: float = Field(default=2.0, gt=0)
    max_calls: int = Field(default=500, ge=1)
    drain_timeout_s: float = Field(default=30.0, ge=0)
    # Knowledge factors and one-time codes (voiceauth.factors)
    knowledge_attempts_per_call: int = Field(default=3, ge=1)
    """Failed knowledge-factor attempts a call may make before the IVR must stop asking."""
    knowledge_lockout_after: int = Field(default=5, ge=1)
    """Failures of one customer, or from one ANI, within `knowledge_window_s` that lock it."""
    knowledge_window_s: float = Field(default=86_400.0, gt=0)
    knowledge_lockout_s: float = Field(default=86_400.0, gt=0)
    """How long a lockout lasts; it also ends earlier if an admin resets the factor."""
    otp_key: SecretStr | None = None
    """HMAC key of stored one-time codes (any length, 32+ random bytes); unset: a random key
    per process (codes then only check on the replica that sent them, which holds the call)."""
    otp_ttl_s: float = Field(default=300.0, gt=0)
    otp_attempts: int = Field(default=3, ge=1)
    otp_sender: str = "voiceauth"
    """From address (e-mail) or sender id (SMS) of one-time codes."""
    smtp_url: SecretStr | None = None
    """smtp://[user:password@]host[:port] (STARTTLS if offered), or smtps:// for implicit TLS."""
    sms_gateway_url: str | None = None
    sms_gateway_body: str = '{"to": "{to}", "from": "{sender}", "text": "{text}"}'
    """JSON body template; the strings {to}, {sender} and {text} are replaced inside strings."""
    sms_gateway_token: SecretStr | None = None
    """Sent as `Authorization: Bearer ...` to the SMS gateway when set."""
    # Strong eID (voiceauth.factors.eid): OpenID CIBA (e.g. a MitID broker) and BankID RP API v6
    eid_method: Literal["ciba", "bankid"] | None = None
    """The eID a start without a method uses; unset: the one configured, CIBA if both are."""
    ciba_issuer: str | None = None
    """The provider's issuer URL; its discovery document gives the endpoints and JWKS."""
    ciba_client_id: str | None = None
    ciba_client_secret: SecretStr | None = None
    """client_secret_basic; leave unset and set `ciba_client_key` for private_key_jwt."""
    ciba_client_key: Path | None = None
    """PEM private key (RSA or EC) of private_key_jwt client authentication."""
    ciba_mode: Literal["poll", "ping"] = "poll"
    """As registered at the provider; ping needs `public_url` reachable by the provider."""
    ciba_scope: str = "openid"
    ciba_requested_expiry_s: int = Field(default=120, ge=10, le=600)
    ciba_subject_claim: str = "sub"
    """The ID token claim that must equal the customer's `eid_hint`; "" trusts the provider."""
    bankid_url: str | None = None
    """e.g. https://appapi2.bankid.com/rp/v6.0 (production) or the test environment's."""
    bankid_cert: Path | None = None
    """The RP's client certificate (PEM) for mutual TLS, issued by BankID for the RP."""
    bankid_key: Path | None = None
    bankid_ca: Path | None = None
    """The CA that issued BankID's server certificate (PEM), the only one trusted."""
    bankid_call_initiator: Literal["user", "RP"] = "user"
    """Who placed the call: the caller (inbound contact centre) or the RP (outbound)."""

    @field_validator("rtp_ports")
    @classmethod
    def _port_range(cls, value: str) -> str:
        low, sep, high = value.partition("-")
        if not (sep and low.isdigit() and high.isdigit() and 1 <= int(low) <= int(high) < 65536):
            raise ValueError(f"rtp_ports must look like 40000-40999, got {value!r}")
        return value

    @property
    def rtp_port_range(self) -> tuple[int, int]:
        """First and last UDP port for RTP calls (inclusive)."""
        low, _, high = self.rtp_ports.partition("-")
        return int(low), int(high)

    @property
    def database(self) -> str:
        """The store's SQLAlchemy URL: `database_url`, else a SQLite file under `home`."""
        return self.database_url or f"sqlite:///{self.home}/voiceauth.db"

    @property
    def model_files(self) -> Path:
        """Where calibrations, thresholds and the countermeasure are read from."""
        return self.models_dir or Path(__file__).resolve().parent.parent / "models"

    @property
    def level_policy_file(self) -> Path:
        return self.level_policy or DEFAULT_POLICY

    @property
    def countermeasure_dir(self) -> Path:
        """Where the countermeasure's weights and calibration are read from."""
        return self.cm_dir or self.model_files / "liveness" / self.cm

    @property
    def ecapa_model_dir(self) -> Path:
        """Where the ECAPA checkpoint lives: `ecapa_dir`, else under `home`."""
        return self.ecapa_dir or self.home / "models" / "spkrec-ecapa-voxceleb"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from `VOICEAUTH_*` variables; unknown keys or bad values: ConfigError."""
    env = os.environ if environ is None else environ
    known = {ENV_PREFIX + name.upper(): name for name in Settings.model_fields}
    unknown = sorted(k for k in env if k.startswith(ENV_PREFIX) and k not in known)
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    values = {field: env[key] for key, field in known.items() if key in env}
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(f"invalid setting: {exc}") from exc
