"""The `voiceauth` command line: parse, load, call the library, print. One module per job."""

# Importing a command module registers its commands on `app` (hence F401 is off for this file).
from voiceauth.cli import (
    compliance,
    eval_cm,
    evaluate,
    models,
    report,
    serve,
    simulate,
    store,
    train,
    train_cm,
)
from voiceauth.cli.app import app

__all__ = ["app"]
