"""`voiceauth customers|consent|enrol|keys ...`: the consent and voiceprint store by hand.

The key-encryption keys come from configuration only (VOICEAUTH_KEYS or VOICEAUTH_KEY_FILE):
a key generated silently and stored beside the database would protect nothing, so without one
every store command refuses and says how to make one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import torch
import typer

from voiceauth.cli.app import app
from voiceauth.cli.common import build_embedder, fail
from voiceauth.errors import ConfigError, VoiceauthError
from voiceauth.settings import Settings, load_settings
from voiceauth.store import (
    AuditAnchor,
    ConsentChannel,
    Keyring,
    VoiceprintStore,
    generate_key,
    rotate,
    upgrade,
)

NO_KEY = (
    "no key-encryption key configured: run `voiceauth keys generate` and put its output in "
    "VOICEAUTH_KEYS (kid:BASE64) or in a file named by VOICEAUTH_KEY_FILE, kept apart from "
    "the database and backed up"
)
ACTOR = "cli"
ANCHOR_FILE = "audit-anchor.json"
"""The audit chain's signed head, under the data directory (`home`), outside the database."""

customers_app = typer.Typer(help="Register customers.", no_args_is_help=True)
consent_app = typer.Typer(help="Record and withdraw consent.", no_args_is_help=True)
keys_app = typer.Typer(help="Key-encryption keys.", no_args_is_help=True)
app.add_typer(customers_app, name="customers")
app.add_typer(consent_app, name="consent")
app.add_typer(keys_app, name="keys")


def keyring_from(settings: Settings) -> Keyring:
    """The configured keyring; ConfigError naming how to make one when none is set."""
    if settings.keys is not None:
        return Keyring.parse(settings.keys.get_secret_value())
    if settings.key_file is not None:
        return Keyring.load(settings.key_file)
    raise ConfigError(NO_KEY)


def open_store(settings: Settings) -> VoiceprintStore:
    """The migrated store, anchoring its audit chain in `home`."""
    keyring = keyring_from(settings)
    if settings.database_url is None:
        settings.home.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database)
    anchor = AuditAnchor(settings.home / ANCHOR_FILE, keyring)
    return VoiceprintStore(settings.database, keyring, anchor=anchor)


@customers_app.command("add")
def customers_add(
    customer_id: str,
    phone: Annotated[list[str] | None, typer.Option(help="E.164 number, repeatable")] = None,
) -> None:
    """Register a customer under the bank's own id."""
    try:
        with open_store(load_settings()) as store:
            store.add_customer(actor=ACTOR, customer_id=customer_id, phones=phone or [])
    except VoiceauthError as exc:
        fail(str(exc))
    typer.echo(f"customer {customer_id} added")


@consent_app.command("grant")
def consent_grant(
    customer_id: str,
    evidence: Annotated[str, typer.Option(help="proof of the opt-in (form id, agent, ...)")],
    text_version: Annotated[str, typer.Option(help="version of the consent text")] = "v1",
    channel: Annotated[ConsentChannel, typer.Option()] = ConsentChannel.WRITTEN,
) -> None:
    """Record the customer's explicit consent to voice biometrics."""
    try:
        with open_store(load_settings()) as store:
            store.grant_consent(
                customer_id,
                actor=ACTOR,
                text_version=text_version,
                channel=channel,
                evidence=evidence,
            )
    except VoiceauthError as exc:
        fail(str(exc))
    typer.echo(f"consent recorded for {customer_id}")


@app.command("enrol")
def enrol(
    customer_id: str,
    files: Annotated[list[Path], typer.Argument(help="enrolment recordings")],
) -> None:
    """Enrol a consented customer from recordings (20 s of net speech by default)."""
    from voiceauth.audio.io import load_audio
    from voiceauth.audio.vad import SileroVad
    from voiceauth.enrolment import Enroller

    torch.set_num_threads(1)
    settings = load_settings()
    try:
        with open_store(settings) as store:
            if not store.has_consent(customer_id):
                fail(f"customer {customer_id!r} has no consent: nothing was processed")
            embedder = build_embedder(settings.embedder, settings.ecapa_dir)
            audio = [load_audio(f) for f in files]
            result = Enroller(store, embedder).enrol_recordings(
                customer_id, audio, SileroVad(), actor=ACTOR, channel=settings.channel
            )
    except VoiceauthError as exc:
        fail(str(exc))
    if not result.stored:
        fail(f"{result.outcome.value}: {result.reason}")
    typer.echo(f"enrolled {customer_id}: {result.net_speech_s:.1f} s of speech")


@keys_app.command("generate")
def keys_generate(kid: Annotated[str, typer.Option(help="key id")] = "k1") -> None:
    """Print a new random key as `kid:BASE64` (store it apart from the database)."""
    typer.echo(f"{kid}:{generate_key()}")


@keys_app.command("rotate")
def keys_rotate(new_kid: str) -> None:
    """Re-wrap every sealed record under NEW_KID (which must already be in the keyring)."""
    try:
        with open_store(load_settings()) as store:
            report = rotate(store, new_kid, actor=ACTOR)
    except VoiceauthError as exc:
        fail(str(exc))
    typer.echo(
        f"re-wrapped {report.voiceprints} voiceprints and {report.watchlist} watchlist entries "
        f"under {new_kid}"
    )


@keys_app.command("api")
def keys_api(
    name: str,
    scope: Annotated[list[str], typer.Option(help="telephony | agent | admin, repeatable")],
) -> None:
    """Print a new API key, and the VOICEAUTH_API_KEYS line holding only its hash."""
    from voiceauth.api.keys import Scope, generate_api_key

    try:
        key, line = generate_api_key(name, [Scope(s) for s in scope])
    except (ValueError, VoiceauthError) as exc:
        fail(str(exc))
    typer.echo(f"key (give it to the client, it is not stored): {key}")
    typer.echo(f"configuration line for VOICEAUTH_API_KEYS: {line}")
