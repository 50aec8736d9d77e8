"""Uploaded audio files to `Audio`, with a size cap, through a temporary file.

`load_audio` reads a path (libsndfile detects the format from the content), so each upload is
spooled to a temporary file that is deleted at once: audio is never kept.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import HTTPException, UploadFile

from voiceauth.audio.io import Audio, load_audio

CHUNK = 1 << 16


async def read_audio(files: list[UploadFile], max_bytes: int) -> list[Audio]:
    out: list[Audio] = []
    for upload in files:
        suffix = Path(upload.filename or "").suffix[:8]
        with tempfile.NamedTemporaryFile(suffix=suffix) as spool:
            size = 0
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise HTTPException(413, f"an uploaded file exceeds {max_bytes} bytes")
                spool.write(chunk)
            spool.flush()
            out.append(load_audio(spool.name))
    return out
