"""`AuditAnchor`: the audit chain's head kept outside the database, signed under the KEK.

The hash chain shows that no entry was changed in place, but whoever can write the database
can also cut off the log's tail or rewrite the whole log and recompute every hash: the result
is a valid chain. The anchor file (under the data directory, never in the database) records
the last head this host saw commit, its seq and hash, with an HMAC-SHA256 under a key derived
from a key-encryption key (HKDF, RFC 5869; derived so the KEK itself is used for one purpose
only), so forging the file too needs the KEK. `audit.verify_chain` then demands that the
database's chain reach the anchored seq and hold the anchored hash there.

The anchor only moves forward: a file lock orders the processes of one host, and a head older
than the anchored one is ignored. A crash between a commit and its anchor write leaves the
anchor one commit behind, which is still a valid lower bound. An anchor on one host does not
witness another host's writes beyond what it saw: ship the head elsewhere too (`voiceauth
audit verify` prints it).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from voiceauth.errors import TamperedData
from voiceauth.store.keyring import Keyring
from voiceauth.store.records import ChainHead

ANCHOR_FORMAT = "voiceauth.audit-anchor/1"
HKDF_INFO = b"voiceauth audit anchor v1"
FIELDS = ("format", "seq", "hash", "key_id")


class AuditAnchor:
    """The signed chain head in `path` (JSON), advanced after each audited commit."""

    def __init__(self, path: Path, keyring: Keyring) -> None:
        self.path = path
        self._keyring = keyring

    def _mac(self, key_id: str, body: dict[str, object]) -> str:
        mac_key = HKDF(hashes.SHA256(), 32, salt=None, info=HKDF_INFO).derive(
            self._keyring.key(key_id)
        )
        message = json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")
        return hmac.new(mac_key, message, hashlib.sha256).hexdigest()

    def read(self) -> ChainHead | None:
        """The anchored head, or None before the first anchored commit.

        TamperedData if the file is malformed or its MAC does not verify; MissingKey if it was
        signed under a key id the keyring no longer holds.
        """
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            stored = json.loads(raw)
            body = {name: stored[name] for name in FIELDS}
            mac, seq, digest, key_id = stored["mac"], body["seq"], body["hash"], body["key_id"]
        except (ValueError, KeyError, TypeError):
            raise TamperedData(f"audit anchor {self.path}: not an anchor file") from None
        if body["format"] != ANCHOR_FORMAT or not isinstance(seq, int) or seq < 0:
            raise TamperedData(f"audit anchor {self.path}: unknown format or bad seq")
        if not isinstance(key_id, str):
            raise TamperedData(f"audit anchor {self.path}: bad key id")
        if not isinstance(mac, str) or not hmac.compare_digest(mac, self._mac(key_id, body)):
            raise TamperedData(
                f"audit anchor {self.path}: signature does not verify (the file was altered, "
                f"or key {key_id!r} is not the key that signed it)"
            )
        return ChainHead(seq, str(digest))

    def advance(self, head: ChainHead) -> ChainHead:
        """Record `head` unless the anchor is already at or past it; returns the anchor."""
        with self._locked():
            current = self.read()
            if current is not None and current.seq >= head.seq:
                return current
            self._write(head)
            return head

    def replace(self, head: ChainHead) -> None:
        """Record `head` even if it is behind the anchor (after a deliberate restore of the
        database from a backup: `StoreCore.reanchor_audit`)."""
        with self._locked():
            self._write(head)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, head: ChainHead) -> None:
        """Write-then-rename with fsyncs: a crash leaves the old or the new anchor, whole."""
        key_id = self._keyring.active
        body: dict[str, object] = {
            "format": ANCHOR_FORMAT,
            "seq": head.seq,
            "hash": head.hash,
            "key_id": key_id,
        }
        text = json.dumps({**body, "mac": self._mac(key_id, body)}, sort_keys=True)
        spool = self.path.with_name(self.path.name + ".tmp")
        with open(spool, "w", encoding="utf-8") as out:
            out.write(text + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(spool, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
