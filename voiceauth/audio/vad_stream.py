"""Streaming voice-activity detection for many calls at once, at 8 kHz.

`SileroVad.segments` looks at a whole recording; a live call has only the audio so far, and a
service has hundreds of calls. Silero's 8 kHz network is a small recurrent model over 32 ms
windows: here each call keeps its own recurrent state and 4 ms of context, and one forward pass
advances every call with a window waiting (batched across calls, ~0.5 ms of CPU per call-second
at 200 calls instead of ~3 ms one by one). Speech is then picked per window with hysteresis
(enter at `threshold`, leave below `threshold - 0.15` after `hangover_ms`), Silero's own rule.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from voiceauth.audio.vad import _load_model
from voiceauth.errors import AudioFormatError, ConfigError

RATE = 8000
WINDOW = 256
"""Samples per Silero window at 8 kHz (32 ms): the only size its 8 kHz model accepts."""
CONTEXT = 32
"""Samples of the previous window the model sees before each window (Silero v5)."""
STATE_SHAPE = (2, 1, 128)
EXIT_MARGIN = 0.15


@dataclass(eq=False)
class VadStream:
    """One call's VAD state: recurrent state, context, hysteresis, and unprocessed samples."""

    state: Any = None
    context: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(CONTEXT, np.float32))
    pending: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    in_speech: bool = False
    quiet_windows: int = 0
    windows: int = 0
    speech_windows: int = 0
    noise_power: float = 0.0
    """Sum over non-speech windows of their mean square: the background level, for SNR."""

    def push(self, samples: npt.NDArray[np.float32]) -> None:
        """Queue 8 kHz float32 samples for the next `BatchedVad.step`."""
        self.pending = np.concatenate([self.pending, samples])

    @property
    def ready_windows(self) -> int:
        return len(self.pending) // WINDOW


class BatchedVad:
    """Silero VAD over many `VadStream`s; `step` returns each stream's new speech samples."""

    def __init__(self, *, threshold: float = 0.5, hangover_ms: int = 160) -> None:
        if not EXIT_MARGIN < threshold < 1.0:
            raise ConfigError(f"VAD threshold must be in ({EXIT_MARGIN}, 1), got {threshold}")
        if hangover_ms < 0:
            raise ConfigError(f"hangover_ms must be >= 0, got {hangover_ms}")
        import torch

        self._torch = torch
        self.threshold = threshold
        self._hangover = hangover_ms * RATE // 1000 // WINDOW
        # The 8 kHz network of Silero v5 takes (batch, context + window) and (2, batch, 128).
        self._net = _load_model()._model_8k
        self._lock = threading.Lock()

    def new_stream(self) -> VadStream:
        return VadStream(state=self._torch.zeros(STATE_SHAPE))

    def step(self, streams: list[VadStream]) -> list[npt.NDArray[np.float32]]:
        """Consume every whole window pending in `streams`; return each one's speech samples."""
        torch = self._torch
        for stream in streams:
            if not np.isfinite(stream.pending).all():
                raise AudioFormatError("VAD input contains NaN or infinite samples")
        n_windows = [stream.ready_windows for stream in streams]
        speech: list[list[npt.NDArray[np.float32]]] = [[] for _ in streams]
        if not streams or max(n_windows) == 0:
            return [np.zeros(0, np.float32) for _ in streams]
        state = torch.cat([stream.state for stream in streams], dim=1)
        context = np.stack([stream.context for stream in streams])
        with self._lock, torch.inference_mode():
            for w in range(max(n_windows)):
                active = np.array([w < n for n in n_windows])
                windows = np.stack(
                    [
                        s.pending[w * WINDOW : (w + 1) * WINDOW] if a else np.zeros(WINDOW)
                        for s, a in zip(streams, active, strict=True)
                    ]
                ).astype(np.float32)
                x = torch.from_numpy(np.concatenate([context, windows], axis=1))
                out, new_state = self._net(x, state)
                keep = torch.from_numpy(active)[None, :, None]
                state = torch.where(keep, new_state, state)
                context = np.where(active[:, None], windows[:, -CONTEXT:], context)
                for k in np.flatnonzero(active):
                    if self._is_speech(streams[k], float(out[k, 0])):
                        speech[k].append(windows[k])
                    else:
                        streams[k].noise_power += float(np.mean(np.square(windows[k])))
        for i, stream in enumerate(streams):
            stream.state = state[:, i : i + 1].clone()
            stream.context = context[i].astype(np.float32)
            stream.pending = stream.pending[n_windows[i] * WINDOW :]
        return [np.concatenate(s) if s else np.zeros(0, np.float32) for s in speech]

    def _is_speech(self, stream: VadStream, probability: float) -> bool:
        stream.windows += 1
        if probability >= self.threshold:
            stream.in_speech, stream.quiet_windows = True, 0
        elif stream.in_speech and probability < self.threshold - EXIT_MARGIN:
            stream.quiet_windows += 1
            if stream.quiet_windows > self._hangover:
                stream.in_speech = False
        if stream.in_speech:
            stream.speech_windows += 1
        return stream.in_speech
