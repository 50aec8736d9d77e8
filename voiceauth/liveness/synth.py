"""Spoofed speech made here: Debian text-to-speech engines in many voices and settings.

A countermeasure trained on a few demo pages learns those pages (../shared/data/README.md);
every extra generator it sees, and is measured on with that generator held out, makes it
learn the attack rather than the source. The three engines Debian ships are three families
of synthesis: formant (espeak-ng, with its voice variants and Klatt synthesis), diphone and
unit-selection concatenation (flite: kal, awb, rms, slt; festival: kal/ked diphones) and
HMM-based statistical parametric synthesis (festival's HTS slt voice). Each is driven with a
voice, rate and pitch drawn per clip, on texts drawn from `texts`, so no two clips share
everything.

Engines are run as subprocesses into a temporary WAV and read back with `load_audio`; an
engine or voice that is not installed is left out of `available_voices`, never faked.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from voiceauth.audio.io import Audio, load_audio
from voiceauth.errors import AudioFormatError

Engine = Literal["espeak-ng", "flite", "festival"]
ENGINES: tuple[Engine, ...] = ("espeak-ng", "flite", "festival")

ESPEAK_LANGUAGES = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc")
ESPEAK_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "f1", "f2", "f3", "f4", "klatt", "klatt3")
"""espeak-ng voice variants (`-v lang+variant`): male/female formant sets and Klatt synthesis."""
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
FESTIVAL_VOICE_DIR = Path("/usr/share/festival/voices")
TIMEOUT_S = 60.0

_OPENINGS = (
    "Hello, I am calling about",
    "Good morning, I would like to ask about",
    "Hi, can you help me with",
    "Yes, this is about",
    "I need to speak to someone about",
    "Could you please check",
    "I'm ringing because of",
    "Thanks for taking my call, it's about",
)
_SUBJECTS = (
    "my savings account",
    "a payment I did not make",
    "the balance on my credit card",
    "a transfer to my daughter",
    "the direct debit for my mortgage",
    "my new debit card that never arrived",
    "changing the address on my policy",
    "an insurance claim from last week",
    "the interest rate on my loan",
    "blocking my card after it was stolen",
)
_CLOSINGS = (
    "My account number is {digits}.",
    "The reference is {digits}, I think.",
    "My date of birth is the {day} of {month}.",
    "You can reach me on {digits}.",
    "It was about {amount} pounds.",
    "My name is {name} and I have been a customer for years.",
    "Please call me back before {hour} o'clock.",
    "I already spoke to {name} yesterday about it.",
)
_NAMES = ("Sarah Miller", "John Carter", "Priya Shah", "Tom O'Neill", "Maria Garcia", "Ken Ito")
_MONTHS = ("January", "March", "April", "June", "August", "October", "December")
_DAYS = ("first", "third", "ninth", "twelfth", "twentieth", "twenty-eighth")


@dataclass(frozen=True, slots=True)
class TtsVoice:
    """One engine and voice: `name` is the engine's own voice id (espeak `en-us+m3`, flite
    `slt`, festival `cmu_us_slt_arctic_hts`)."""

    engine: Engine
    name: str

    @property
    def attack(self) -> str:
        """The manifest's attack id: engine and voice, the unit a detector may overfit on."""
        return f"{self.engine}_{self.name}".replace("+", "_").replace("-", "_")


def texts(count: int, seed: int) -> list[str]:
    """count varied contact-centre sentences (opening, subject, a closing with numbers or
    names), seeded: the kind of speech a caller's clone would have to say."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        closing = str(rng.choice(_CLOSINGS)).format(
            digits=" ".join(str(d) for d in rng.integers(0, 10, int(rng.integers(4, 9)))),
            day=rng.choice(_DAYS),
            month=rng.choice(_MONTHS),
            amount=int(rng.integers(20, 5000)),
            name=rng.choice(_NAMES),
            hour=int(rng.integers(1, 12)),
        )
        out.append(f"{rng.choice(_OPENINGS)} {rng.choice(_SUBJECTS)}. {closing}")
    return out


def festival_voices(voice_dir: Path = FESTIVAL_VOICE_DIR) -> list[str]:
    """Festival voices installed (one folder per voice under voices/<language>/)."""
    if not voice_dir.is_dir():
        return []
    return sorted(p.name for p in voice_dir.glob("*/*") if p.is_dir())


def flite_voices() -> list[str]:
    """Voices compiled into this flite (`flite -lv`); flite itself falls back silently to
    its default voice for an unknown name, so names are checked against this list."""
    if shutil.which("flite") is None:
        return []
    listed = subprocess.run(
        ["flite", "-lv"], capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    return listed.stdout.split(":", 1)[-1].split()


def available_voices() -> list[TtsVoice]:
    """Every engine voice installed on this machine; an absent engine contributes none."""
    voices: list[TtsVoice] = []
    if shutil.which("espeak-ng"):
        voices += [
            TtsVoice("espeak-ng", f"{lang}+{variant}")
            for lang in ESPEAK_LANGUAGES
            for variant in ESPEAK_VARIANTS
        ]
    installed = flite_voices()
    voices += [TtsVoice("flite", v) for v in FLITE_VOICES if v in installed]
    if shutil.which("text2wave"):
        voices += [TtsVoice("festival", v) for v in festival_voices()]
    return voices


def _command(voice: TtsVoice, text_file: Path, out: Path, rate: float, pitch: float) -> list[str]:
    """The engine's command line; rate scales speaking speed (1 = default), pitch in [0, 1]."""
    if voice.engine == "espeak-ng":
        return [
            "espeak-ng",
            "-v",
            voice.name,
            "-s",
            str(round(165 * rate)),
            "-p",
            str(round(100 * pitch)),
            "-f",
            str(text_file),
            "-w",
            str(out),
        ]
    if voice.engine == "flite":
        return [
            "flite",
            "-voice",
            voice.name,
            "--setf",
            f"duration_stretch={1 / rate:.3f}",
            "--setf",
            f"int_f0_target_mean={80 + 140 * pitch:.0f}",
            "-f",
            str(text_file),
            "-o",
            str(out),
        ]
    return [
        "text2wave",
        "-o",
        str(out),
        "-eval",
        f"(voice_{voice.name})",
        "-eval",
        f"(Parameter.set 'Duration_Stretch {1 / rate:.3f})",
        str(text_file),
    ]


def synthesise(voice: TtsVoice, text: str, *, rate: float = 1.0, pitch: float = 0.5) -> Audio:
    """Speak text with voice; returns the engine's audio at its own rate (8-48 kHz).

    Raises AudioFormatError when the engine fails or writes no audio (missing voice).
    """
    if voice.engine == "flite" and voice.name not in flite_voices():
        raise AudioFormatError(f"flite voice {voice.name!r} is not installed")
    with tempfile.TemporaryDirectory(prefix="voiceauth-tts-") as tmp:
        text_file, out = Path(tmp) / "text.txt", Path(tmp) / "out.wav"
        text_file.write_text(text + "\n", encoding="utf-8")
        done = subprocess.run(
            _command(voice, text_file, out, rate, pitch),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0 or not out.is_file() or out.stat().st_size <= 44:
            raise AudioFormatError(
                f"{voice.engine} voice {voice.name!r} wrote no audio: "
                f"{(done.stderr or done.stdout).strip()[:200]}"
            )
        return load_audio(out)
