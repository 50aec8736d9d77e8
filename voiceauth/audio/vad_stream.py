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
        """Consume every whole window pending in `streams`; return each one's speech samples.

        The hysteresis runs on arrays across calls, window by window, so the Python work per
        pass grows with the calls, not with calls x windows (it holds the GIL that the event
        loop and the embedding thread share)."""
        torch = self._torch
        for stream in streams:
            if not np.isfinite(stream.pending).all():
                raise AudioFormatError("VAD input contains NaN or infinite samples")
        n_windows = np.array([stream.ready_windows for stream in streams], dtype=np.int64)
        if not streams or n_windows.max() == 0:
            return [np.zeros(0, np.float32) for _ in streams]
        depth = int(n_windows.max())
        audio = np.zeros((len(streams), depth * WINDOW), np.float32)
        for i, stream in enumerate(streams):
            audio[i, : n_windows[i] * WINDOW] = stream.pending[: n_windows[i] * WINDOW]
        windows = audio.reshape(len(streams), depth, WINDOW)
        active = np.arange(depth)[None, :] < n_windows[:, None]  # (calls, windows)
        in_speech = np.array([stream.in_speech for stream in streams])
        quiet = np.array([stream.quiet_windows for stream in streams], dtype=np.int64)
        speech = np.zeros(active.shape, bool)
        state = torch.cat([stream.state for stream in streams], dim=1)
        context = np.stack([stream.context for stream in streams])
        with self._lock, torch.inference_mode():
            for w in range(depth):
                now = active[:, w]
                x = torch.from_numpy(np.concatenate([context, windows[:, w]], axis=1))
                out, new_state = self._net(x, state)
                state = torch.where(torch.from_numpy(now)[None, :, None], new_state, state)
                context = np.where(now[:, None], windows[:, w, -CONTEXT:], context)
                in_speech, quiet = self._hysteresis(out[:, 0].numpy(), in_speech, quiet, now)
                speech[:, w] = in_speech & now
        power = np.mean(np.square(windows), axis=2)
        noise = np.sum(np.where(active & ~speech, power, 0.0), axis=1)
        found = []
        for i, stream in enumerate(streams):
            stream.state = state[:, i : i + 1].clone()
            stream.context = context[i].astype(np.float32)
            stream.pending = stream.pending[n_windows[i] * WINDOW :]
            stream.in_speech, stream.quiet_windows = bool(in_speech[i]), int(quiet[i])
            stream.windows += int(n_windows[i])
            stream.speech_windows += int(speech[i].sum())
            stream.noise_power += float(noise[i])
            found.append(windows[i][speech[i]].reshape(-1))
        return found

    def _hysteresis(
        self,
        probability: npt.NDArray[np.float32],
        in_speech: npt.NDArray[np.bool_],
        quiet: npt.NDArray[np.int64],
        active: npt.NDArray[np.bool_],
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
        """One window of every call: speech starts at `threshold`, and ends once the
        probability has stayed below `threshold - EXIT_MARGIN` for more than the hangover."""
        enter = probability >= self.threshold
        dip = ~enter & in_speech & (probability < self.threshold - EXIT_MARGIN)
        new_quiet = np.where(enter, 0, quiet + dip)
        leave = dip & (new_quiet > self._hangover)
        new_speech = enter | (in_speech & ~leave)
        return np.where(active, new_speech, in_speech), np.where(active, new_quiet, quiet)
