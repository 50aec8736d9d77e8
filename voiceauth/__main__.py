"""`python -m voiceauth` is the `voiceauth` command."""

from voiceauth.cli import app

app(prog_name="voiceauth")
