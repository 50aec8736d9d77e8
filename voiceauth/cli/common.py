"""Options and helpers shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from voiceauth.audio.channel import CHANNELS, Channel
from voiceauth.embeddings.base import Embedder
from voiceauth.embeddings.factory import create_embedder
from voiceauth.settings import load_settings

EmbedderOption = Annotated[str, typer.Option(help="auto | ecapa | ge2e")]
EcapaDirOption = Annotated[
    Path | None, typer.Option(help="ECAPA model dir (default: VOICEAUTH_ECAPA_DIR or home)")
]


def fail(message: str) -> NoReturn:
    """Print an error for a person and exit with status 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def check_channel(channel: str) -> Channel:
    """The channel option as its type, or exit naming the valid ones."""
    for known in CHANNELS:
        if channel == known:
            return known
    fail(f"unknown channel {channel!r}; choose one of {', '.join(CHANNELS)}")


def ecapa_dir_or_default(ecapa_dir: Path | None) -> Path:
    """The ECAPA directory given on the command line, else the configured one."""
    return ecapa_dir or load_settings().ecapa_model_dir


def build_embedder(name: str, ecapa_dir: Path | None) -> Embedder:
    """Load the embedder a command asked for."""
    return create_embedder(name, ecapa_dir=ecapa_dir_or_default(ecapa_dir))
