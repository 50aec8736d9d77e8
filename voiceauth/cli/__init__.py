"""The `voiceauth` command line: parse, load, call the library, print. One module per job."""

from voiceauth.cli import compliance, eval_cm, evaluate, models, serve, store, train, train_cm  # noqa: F401, I001  (registers commands)
from voiceauth.cli.app import app

__all__ = ["app"]
