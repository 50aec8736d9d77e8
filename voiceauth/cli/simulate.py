"""`voiceauth simulate`: play a recording as a real call and print what the service decided."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from voiceauth.cli.app import app
from voiceauth.cli.common import fail
from voiceauth.errors import VoiceauthError
from voiceauth.settings import load_settings
from voiceauth.transports.impair import Impairments
from voiceauth.transports.simulate import TRANSPORTS, Target, simulate


def _api_key(given: str | None) -> str:
    """The key given, else the development key `scripts/run` made."""
    if given:
        return given
    dev = load_settings().home / "dev" / "api-key"
    if dev.is_file():
        return dev.read_text().strip()
    fail("no API key: pass --api-key (scope telephony), or start the server with scripts/run")


@app.command("simulate")
def simulate_command(
    file: Path,
    transport: Annotated[str, typer.Option(help=" | ".join(TRANSPORTS))] = "ws",
    server: Annotated[str, typer.Option(help="the service's base URL")] = "http://127.0.0.1:8080",
    customer: Annotated[str | None, typer.Option(help="claimed customer id")] = None,
    ani: Annotated[str | None, typer.Option(help="caller-ID (E.164)")] = None,
    dnis: Annotated[str | None, typer.Option(help="dialled number")] = None,
    loss: Annotated[float, typer.Option(help="share of 20 ms frames lost")] = 0.0,
    jitter_ms: Annotated[float, typer.Option(help="extra delay per frame, up to")] = 0.0,
    reorder: Annotated[float, typer.Option(help="share of frames sent late")] = 0.0,
    duplicate: Annotated[float, typer.Option(help="share of frames sent twice")] = 0.0,
    speed: Annotated[float, typer.Option(help="pace vs real time; 0 = flat out")] = 1.0,
    seed: Annotated[int, typer.Option(help="impairment seed")] = 0,
    api_key: Annotated[str | None, typer.Option(help="API key (scope telephony)")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the result here")] = None,
) -> None:
    """Play FILE as a call over a transport to a running server; print the final state and
    the audio and net speech it took to the first decision."""
    settings = load_settings()
    target = Target(
        server=server.rstrip("/"),
        api_key=_api_key(api_key),
        twilio_auth_token=(
            settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
        ),
        audiohook_client_secret=(
            settings.audiohook_client_secret.get_secret_value()
            if settings.audiohook_client_secret
            else None
        ),
        audiosocket_port=settings.audiosocket_port,
    )
    try:
        impairments = Impairments(loss, jitter_ms, reorder, duplicate, speed, seed)
        result = asyncio.run(
            simulate(
                file,
                transport,
                target,
                customer_id=customer,
                ani=ani,
                dnis=dnis,
                impairments=impairments,
            )
        )
    except (VoiceauthError, OSError) as exc:
        fail(str(exc))
    typer.echo(
        f"{result['call_id']}: {result['voice_state']} after "
        f"{result['decided_after_audio_s']} s of audio / {result['decided_after_speech_s']} s "
        f"of net speech ({'; '.join(result['reasons'])})"
    )
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2) + "\n")
