"""`voiceauth models ...`: get and inspect the model files voiceauth runs on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from voiceauth.cli.app import app
from voiceauth.cli.common import EcapaDirOption, ecapa_dir_or_default, fail
from voiceauth.embeddings.factory import resolve_embedder_name
from voiceauth.errors import VoiceauthError

models_app = typer.Typer(help="Fetch and inspect model files.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("fetch")
def fetch(
    name: Annotated[str, typer.Argument(help="model to fetch: ecapa")],
    ecapa_dir: EcapaDirOption = None,
) -> None:
    """Download a published model (needs internet) and verify its checksums."""
    from voiceauth.embeddings.fetch import fetch_ecapa

    if name != "ecapa":
        fail(f"unknown model {name!r}; fetchable: ecapa (ge2e ships with resemblyzer)")
    target: Path = ecapa_dir_or_default(ecapa_dir)
    try:
        fetch_ecapa(target)
    except VoiceauthError as exc:
        fail(str(exc))
    typer.echo(f"ecapa checkpoint verified and installed in {target}")


@models_app.command("which")
def which(embedder: str = "auto", ecapa_dir: EcapaDirOption = None) -> None:
    """Say which backend `auto` (or a name) resolves to here."""
    try:
        typer.echo(resolve_embedder_name(embedder, ecapa_dir=ecapa_dir_or_default(ecapa_dir)))
    except VoiceauthError as exc:
        fail(str(exc))
