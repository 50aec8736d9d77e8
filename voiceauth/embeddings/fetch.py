"""Fetch SpeechBrain's published ECAPA checkpoint and verify it byte for byte.

The weights (Apache-2.0) live on the Hugging Face hub as `speechbrain/spkrec-ecapa-voxceleb`;
they are too large to ship. Sizes and sha256 sums are the published files' (see
`../shared/models/README.md`); a file that does not match is deleted, never loaded.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from voiceauth.embeddings.ecapa import file_sha256
from voiceauth.errors import ModelIntegrityError, ModelNotFound

ECAPA_REPO = "speechbrain/spkrec-ecapa-voxceleb"


@dataclass(frozen=True, slots=True)
class PublishedFile:
    name: str
    size: int | None
    sha256: str | None


ECAPA_FILES = (
    PublishedFile("hyperparams.yaml", None, None),
    PublishedFile("label_encoder.txt", None, None),
    PublishedFile(
        "embedding_model.ckpt",
        84_476_795,
        "9cfc6772728164290ade2b80bf93ba9c47b1f450a54c58bae28fdbd27d4d7ec5",
    ),
    PublishedFile(
        "classifier.ckpt",
        5_534_328,
        "fd9e3634fe68bd0a427c95e354c0c677374f62b3f434e45b78599950d860d535",
    ),
    PublishedFile(
        "mean_var_norm_emb.ckpt",
        1_921,
        "cd70225b05b37be64fc5a95e24395d804231d43f74b2e1e5a513db7b69b34c33",
    ),
)


def verify_file(path: Path, expected: PublishedFile) -> None:
    """Raise ModelIntegrityError unless `path` has the published size and checksum."""
    if expected.size is not None and path.stat().st_size != expected.size:
        raise ModelIntegrityError(
            f"{expected.name}: {path.stat().st_size} bytes, published file has {expected.size}"
        )
    if expected.sha256 is not None:
        actual = file_sha256(path)
        if actual != expected.sha256:
            raise ModelIntegrityError(
                f"{expected.name}: sha256 {actual[:16]}… does not match the published "
                f"{expected.sha256[:16]}…"
            )


def fetch_ecapa(dest: Path, *, revision: str | None = None) -> Path:
    """Download the published ECAPA files into `dest`, verify them, and return `dest`.

    Files go to a staging folder first, so an interrupted or corrupt download never leaves a
    half model where `auto` would pick it up.
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    staging = dest.with_name(dest.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for published in ECAPA_FILES:
            try:
                cached = hf_hub_download(ECAPA_REPO, published.name, revision=revision)
            except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as exc:
                raise ModelNotFound(
                    f"cannot download {published.name} from the Hugging Face hub ({ECAPA_REPO}): "
                    f"{exc.__class__.__name__}. Run `voiceauth models fetch ecapa` on a machine "
                    f"with internet and copy {dest} here, or train one with `voiceauth train`."
                ) from exc
            target = staging / published.name
            shutil.copyfile(cached, target)
            verify_file(target, published)
        shutil.rmtree(dest, ignore_errors=True)
        staging.rename(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest
