"""Debian TTS engines speak real speech, at their own rates, through `synth`."""

from __future__ import annotations

import shutil

import pytest

from voiceauth.audio.resample import resample
from voiceauth.audio.vad import SileroVad, speech_seconds
from voiceauth.errors import AudioFormatError
from voiceauth.liveness.synth import TtsVoice, available_voices, festival_voices, synthesise, texts

ENGINE_BINARIES = {"espeak-ng": "espeak-ng", "flite": "flite", "festival": "text2wave"}
VOICES = (
    (TtsVoice("espeak-ng", "en-gb+f3"), 22050),
    (TtsVoice("flite", "kal"), 8000),
    (TtsVoice("flite", "slt"), 16000),
    (TtsVoice("festival", "kal_diphone"), 16000),
)


def needs(voice: TtsVoice) -> None:
    """Skip, naming what to install, when the engine (or festival voice) is absent."""
    binary = ENGINE_BINARIES[voice.engine]
    if shutil.which(binary) is None:
        pytest.skip(f"{binary} not installed (Debian package {voice.engine})")
    if voice.engine == "festival" and voice.name not in festival_voices():
        pytest.skip(f"festival voice {voice.name} not installed (Debian festvox-kallpc16k)")


def test_texts_are_seeded_and_varied() -> None:
    first = texts(20, seed=3)
    assert first == texts(20, seed=3) and first != texts(20, seed=4)
    assert len(set(first)) == 20 and all(len(t.split()) >= 8 for t in first)


@pytest.mark.parametrize(("voice", "rate"), VOICES, ids=lambda v: getattr(v, "attack", v))
def test_each_engine_speaks_the_text_at_its_rate(
    voice: TtsVoice, rate: int, vad: SileroVad
) -> None:
    needs(voice)
    text = texts(1, seed=0)[0]
    audio = synthesise(voice, text, rate=1.0, pitch=0.5)
    assert audio.sample_rate == rate
    assert 3.0 < audio.duration_s < 15.0
    speech = speech_seconds(vad.segments(resample(audio.samples, rate, 16000), 16000), 16000)
    assert speech > 0.6 * audio.duration_s
    faster = synthesise(voice, text, rate=1.25, pitch=0.5)
    assert faster.duration_s < 0.92 * audio.duration_s


def test_installed_voices_are_listed_and_named_for_the_manifest() -> None:
    voices = available_voices()
    engines = {v.engine for v in voices}
    missing = [b for e, b in ENGINE_BINARIES.items() if shutil.which(b) and e not in engines]
    assert not [m for m in missing if m != "text2wave"]
    for voice in voices:
        assert voice.attack.replace("_", "").isalnum()


def test_an_unknown_voice_is_an_error_not_silence() -> None:
    voice = TtsVoice("flite", "no-such-voice")
    needs(voice)
    with pytest.raises(AudioFormatError, match="flite voice 'no-such-voice'"):
        synthesise(voice, "hello")
