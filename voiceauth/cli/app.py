"""The typer application every command module registers on."""

import typer

app = typer.Typer(
    name="voiceauth",
    help="Voice-biometrics authentication for inbound contact centres.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
