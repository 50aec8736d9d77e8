"""Speech through a real low-rate codec, as a mobile or VoIP leg hands it to the G.711 network.

Few calls are G.711 end to end: a mobile caller's speech is coded by the handset (GSM, AMR)
and a VoIP caller's by their app (Opus, Speex, G.723.1), then transcoded to G.711 at the
gateway. Those codecs are themselves vocoders of a kind, so a countermeasure must be measured
through them: genuine speech must not start to look synthetic, and a clone must not hide its
traces behind them. ffmpeg (Debian package `ffmpeg`) encodes and decodes; nothing is written
to disk. AMR-NB is not here: Debian's ffmpeg decodes it but cannot encode it.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import numpy.typing as npt

from voiceauth.audio.pcm import float_to_pcm16, pcm16_to_float
from voiceauth.errors import ConfigError

RATE = 8000
RAW_GSM = ("-f", "gsm", "-ar", str(RATE), "-ac", "1")
LEG_CODECS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # GSM 06.10 full rate, 13 kbit/s: 2G mobile (a raw stream: its rate is given to read it)
    "gsm": (("-c:a", "libgsm", "-f", "gsm"), RAW_GSM),
    # ITU-T G.723.1, 6.3 kbit/s: VoIP
    "g723_1": (("-c:a", "g723_1", "-b:a", "6300", "-f", "g723_1"), ("-f", "g723_1")),
    # Opus, 12 kbit/s: WebRTC and calling apps
    "opus": (("-c:a", "libopus", "-b:a", "12k", "-f", "ogg"), ("-f", "ogg")),
    # Speex narrowband, 8 kbit/s
    "speex": (("-c:a", "libspeex", "-b:a", "8k", "-f", "ogg"), ("-f", "ogg")),
}
"""Codec name -> (ffmpeg encoder options and container, options to read that container back);
every one narrowband (8 kHz)."""
TIMEOUT_S = 60
PCM = ("-f", "s16le", "-ar", str(RATE), "-ac", "1")


def transcode(samples: npt.NDArray[np.float32], codec: str) -> npt.NDArray[np.float32]:
    """(n,) float32 speech at 8 kHz encoded with `codec` and decoded back to (n,) float32 at
    8 kHz (the codec's delay kept, its tail cut or padded with silence to the same length)."""
    if codec not in LEG_CODECS:
        raise ConfigError(f"unknown leg codec {codec!r}; known: {', '.join(LEG_CODECS)}")
    if shutil.which("ffmpeg") is None:
        raise ConfigError("the leg codecs need ffmpeg (Debian package ffmpeg)")
    encode, read = LEG_CODECS[codec]
    pcm = float_to_pcm16(samples).astype("<i2").tobytes()
    coded = _ffmpeg([*PCM, "-i", "pipe:0", *encode, "pipe:1"], pcm, codec)
    decoded = _ffmpeg([*read, "-i", "pipe:0", *PCM, "pipe:1"], coded, codec)
    out = pcm16_to_float(np.frombuffer(decoded, dtype="<i2"))
    return np.asarray(np.pad(out, (0, max(0, len(samples) - len(out))))[: len(samples)])


def _ffmpeg(arguments: list[str], data: bytes, codec: str) -> bytes:
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", *arguments]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(f"ffmpeg took over {TIMEOUT_S} s on the {codec} codec") from exc
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode(errors="replace").strip() or "no output"
        raise ConfigError(f"ffmpeg could not run the {codec} codec: {message}")
    return done.stdout
