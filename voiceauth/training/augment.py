"""Training augmentations: speed, additive noise and the telephone channel, each at random.

The service hears callers over G.711 phone lines in rooms that are not quiet, while the
training speech is mostly clean wideband read speech; augmenting towards the deployment
channel teaches the model to ignore what the channel does. The order follows the physical
path: the talker (speed), the room (noise at the microphone), then the line (telephony).
No external noise corpus is available here, so the noise is generated: white (flat, like line
hiss) or pink (1/f, closer to the spectrum of rooms and crowds).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from voiceauth.audio.channel import CODECS, TELEPHONE_RATE, telephone_channel
from voiceauth.audio.io import Audio
from voiceauth.audio.resample import resample
from voiceauth.training.config import AugmentConfig

_POWER_FLOOR = 1e-10  # mean power of digital silence stand-in, keeps SNR scaling finite


class Augmenter:
    """Turns a `source_samples`-long crop into an augmented `crop_samples`-long one.

    Crops are drawn a little longer than needed (`source_samples`), so that speeding up by the
    largest factor still fills the output; the result is cut to `crop_samples`.
    """

    def __init__(
        self,
        config: AugmentConfig,
        *,
        sample_rate: int,
        crop_samples: int,
        rng: np.random.Generator,
    ) -> None:
        self._config = config
        self._rate = sample_rate
        self._crop = crop_samples
        self._rng = rng

    @property
    def source_samples(self) -> int:
        """Input length needed to fill `crop_samples` at the fastest speed."""
        return math.ceil(self._crop * max(1.0, *self._config.speeds))

    def __call__(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Augment one crop of (source_samples,) float32 at the corpus rate."""
        config, rng = self._config, self._rng
        out = samples
        if rng.random() < config.speed_prob:
            out = change_speed(out, float(rng.choice(config.speeds)), self._rate)
        out = _fit(out, self._crop)
        if rng.random() < config.noise_prob:
            colour = "pink" if rng.random() < 0.5 else "white"
            snr = float(rng.uniform(*config.snr_db))
            out = add_noise(out, snr_db=snr, colour=colour, rng=rng)
        if rng.random() < config.telephony_prob:
            codec = CODECS[int(rng.integers(len(CODECS)))]
            loss = float(rng.uniform(0.0, config.max_packet_loss))
            out = through_telephone(out, self._rate, codec=codec, packet_loss=loss, rng=rng)
        return _fit(out, self._crop)


def change_speed(
    samples: npt.NDArray[np.float32], factor: float, sample_rate: int
) -> npt.NDArray[np.float32]:
    """Play `factor` times faster (shorter, higher), by resampling: (n,) -> (about n / factor,)."""
    if factor == 1.0:
        return samples
    return resample(samples, round(sample_rate * factor), sample_rate)


def add_noise(
    samples: npt.NDArray[np.float32],
    *,
    snr_db: float,
    colour: str,
    rng: np.random.Generator,
) -> npt.NDArray[np.float32]:
    """Add white or pink Gaussian noise at `snr_db` below the signal's mean power."""
    noise = pink_noise(len(samples), rng) if colour == "pink" else rng.standard_normal(len(samples))
    signal_power = max(float(np.mean(np.square(samples, dtype=np.float64))), _POWER_FLOOR)
    noise_power = max(float(np.mean(np.square(noise))), _POWER_FLOOR)
    gain = math.sqrt(signal_power / noise_power / 10.0 ** (snr_db / 10.0))
    return (samples + gain * noise).astype(np.float32)


def pink_noise(length: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Gaussian noise with a 1/f power spectrum (3 dB per octave down), by spectral shaping."""
    spectrum = np.fft.rfft(rng.standard_normal(length))
    frequencies = np.arange(len(spectrum), dtype=np.float64)
    frequencies[0] = 1.0  # keep DC finite; it is removed below
    spectrum /= np.sqrt(frequencies)
    spectrum[0] = 0.0
    return np.fft.irfft(spectrum, n=length)


def through_telephone(
    samples: npt.NDArray[np.float32],
    sample_rate: int,
    *,
    codec: str,
    packet_loss: float,
    rng: np.random.Generator,
) -> npt.NDArray[np.float32]:
    """The crop as heard after a G.711 call, back at `sample_rate` (band-limited to 3.4 kHz)."""
    line = telephone_channel(
        Audio(samples=samples, sample_rate=sample_rate),
        codec="alaw" if codec == "alaw" else "mulaw",
        packet_loss=packet_loss,
        rng=rng,
    )
    return resample(line.samples, TELEPHONE_RATE, sample_rate)


def _fit(samples: npt.NDArray[np.float32], length: int) -> npt.NDArray[np.float32]:
    """Cut to `length`, or pad with zeros (resampling can be a sample or two short)."""
    if len(samples) >= length:
        return samples[:length]
    return np.pad(samples, (0, length - len(samples)))
