"""`voiceauth audit verify` and `voiceauth retention run`: the data-protection officer's jobs.

Both are meant for a scheduler (cron, a Kubernetes CronJob): exit status 0 when all is well,
2 with one line saying what is wrong otherwise.
"""

from __future__ import annotations

from typing import Annotated

import typer

from voiceauth.cli.app import app
from voiceauth.cli.common import fail
from voiceauth.cli.store import open_store
from voiceauth.errors import VoiceauthError
from voiceauth.settings import load_settings

ACTOR = "cli"

audit_app = typer.Typer(help="The audit log's hash chain.", no_args_is_help=True)
retention_app = typer.Typer(help="Storage limitation (GDPR Art. 5(1)(e)).", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")


@audit_app.command("verify")
def audit_verify(
    re_anchor: Annotated[
        bool,
        typer.Option(
            help="after a deliberate restore of the database from a backup: accept its chain "
            "head as the new anchor (audited)"
        ),
    ] = False,
) -> None:
    """Check every link of the audit chain and that it still holds the anchored head."""
    try:
        with open_store(load_settings()) as store:
            if re_anchor:
                store.reanchor_audit(actor=ACTOR)
            head = store.verify_audit_chain()
    except VoiceauthError as exc:
        fail(str(exc))
    typer.echo(f"audit chain intact: {head.seq} entries, head {head.hash}")


@retention_app.command("run")
def retention_run(
    days: Annotated[
        int,
        typer.Option(min=1, help="delete voiceprints unused, and call outcomes older, this long"),
    ],
) -> None:
    """Delete voiceprints not used for DAYS days and older call outcomes; audited."""
    try:
        with open_store(load_settings()) as store:
            report = store.run_retention(unused_days=days, actor="cli:retention")
    except VoiceauthError as exc:
        fail(str(exc))
    typer.echo(
        f"deleted {len(report.expired)} voiceprints unused since "
        f"{report.unused_since.isoformat(timespec='seconds')}, and "
        f"{report.call_outcomes_deleted} call outcomes of calls started before then"
    )
