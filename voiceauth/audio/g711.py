"""ITU-T G.711 µ-law and A-law companding, vectorised over numpy arrays.

G.711 is the 64 kbit/s telephone codec: every 8 kHz sample is one byte. The mapping follows
the ITU-T G.191 software tools reference (g711.c, `ulaw_compress`/`alaw_compress`) bit for bit:
16-bit input is reduced to the 14-bit (µ-law) or 13-bit (A-law) sign-magnitude form of G.711
Table 1/2 by taking the one's complement of negative samples before the right shift, so the
quantiser is symmetric about -0.5 LSB.

Sun's widely copied g711.c (behind Python's old `audioop.lin2ulaw`) negates instead; for the
508 negative inputs within 4 LSB past a µ-law decision level its code is one step larger in
magnitude. A-law encoding and both decoders agree with it everywhere.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voiceauth.errors import AudioFormatError

MULAW_BIAS = 33
"""µ-law bias in 14-bit units (132 in 16-bit units): shifts segment edges to powers of two."""
MULAW_MAX_BIASED = 0x1FFF
"""Largest biased 14-bit µ-law magnitude; louder samples saturate at the top code."""
ALAW_EVEN_BITS = 0x55
"""A-law transmits codes with even bits inverted (G.711 §2, Table 1 note)."""
SIGN_BIT = 0x80


def _bit_length(values: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    """Number of bits needed for each non-negative value (0 for 0), like int.bit_length."""
    _, exponent = np.frexp(values.astype(np.float64))
    return exponent.astype(np.int32)


def _sign_magnitude(
    pcm16: npt.NDArray[np.int16], shift: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int32]]:
    """Split int16 into (is_negative, magnitude >> shift) with G.191's one's complement."""
    samples = np.asarray(pcm16)
    if samples.dtype != np.int16:
        raise AudioFormatError(
            f"G.711 encodes 16-bit linear PCM: got {samples.dtype}; convert with float_to_pcm16"
        )
    wide = samples.astype(np.int32)
    negative = wide < 0
    magnitude = np.where(negative, ~wide, wide) >> shift
    return negative, magnitude.astype(np.int32)


def _require_codes(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    array = np.asarray(codes)
    if array.dtype != np.uint8:
        raise AudioFormatError(f"G.711 decodes bytes: expected uint8 codes, got {array.dtype}")
    return array


def mulaw_encode(pcm16: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    """Compand int16 PCM to µ-law codes (G.711 Table 2a), any shape, 8 kHz in telephony.

    The 14 most significant bits are used: magnitude plus bias 33 selects one of 8 segments
    (its leading one) and 16 steps within it (the next 4 bits); the code is sent inverted.
    """
    negative, magnitude = _sign_magnitude(pcm16, 2)
    biased = np.minimum(magnitude + MULAW_BIAS, MULAW_MAX_BIASED)
    segment = _bit_length(biased) - 6  # biased >= 33 has 6..13 bits: segments 0..7
    step = (biased >> (segment + 1)) & 0x0F
    code = 0x7F ^ ((segment << 4) | step)
    return np.where(negative, code, code | SIGN_BIT).astype(np.uint8)


def alaw_encode(pcm16: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    """Compand int16 PCM to A-law codes (G.711 Table 1a), any shape, 8 kHz in telephony.

    The 12 most significant bits are used; the first two segments share one step size, so
    magnitudes below 16 are coded linearly and above that by leading one plus 4 bits.
    """
    negative, magnitude = _sign_magnitude(pcm16, 4)
    segment = np.maximum(_bit_length(magnitude) - 4, 0)
    step = (magnitude >> np.maximum(segment - 1, 0)) & 0x0F
    code = (segment << 4) | step
    signed: npt.NDArray[np.int32] = np.where(negative, code, code | SIGN_BIT)
    return (signed ^ ALAW_EVEN_BITS).astype(np.uint8)


def _mulaw_table() -> npt.NDArray[np.int16]:
    """Decoded value of each µ-law code: the middle of its quantisation interval, in int16."""
    inverted = ~np.arange(256, dtype=np.int32) & 0xFF
    segment = (inverted >> 4) & 0x07
    step = inverted & 0x0F
    magnitude14 = ((2 * step + MULAW_BIAS) << segment) - MULAW_BIAS
    value = 4 * magnitude14  # 14-bit value left-justified in 16 bits
    return np.where(inverted & SIGN_BIT, -value, value).astype(np.int16)


def _alaw_table() -> npt.NDArray[np.int16]:
    """Decoded value of each A-law code: the middle of its quantisation interval, in int16."""
    codes = np.arange(256, dtype=np.int32)
    plain = codes ^ ALAW_EVEN_BITS
    segment = (plain >> 4) & 0x07
    step = plain & 0x0F
    linear = 8 * (2 * step + 1)  # segment 0: 16 steps of 16, centred
    scaled = (8 * (2 * step + 33)) << np.maximum(segment - 1, 0)
    value = np.where(segment == 0, linear, scaled)
    return np.where(codes & SIGN_BIT, value, -value).astype(np.int16)


MULAW_DECODE_TABLE = _mulaw_table()
"""(256,) int16: µ-law code -> linear PCM (G.711 Table 2a decoder output)."""
ALAW_DECODE_TABLE = _alaw_table()
"""(256,) int16: A-law code -> linear PCM (G.711 Table 1a decoder output)."""
MULAW_DECODE_TABLE.flags.writeable = False
ALAW_DECODE_TABLE.flags.writeable = False


def mulaw_decode(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    """Expand µ-law codes (uint8, any shape) to int16 PCM by table lookup."""
    return MULAW_DECODE_TABLE[_require_codes(codes)]


def alaw_decode(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    """Expand A-law codes (uint8, any shape) to int16 PCM by table lookup."""
    return ALAW_DECODE_TABLE[_require_codes(codes)]
