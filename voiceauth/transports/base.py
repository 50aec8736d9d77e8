"""What every transport hands to the call service, and the one interface it hands it through.

Every platform's audio is normalised to 8 kHz mono 16-bit PCM (the band G.711 calls carry) and
tagged with call id and track, so the call service never sees a wire format. A transport may
deliver any frame length; 20 ms (160 samples) is usual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from voiceauth.calls.snapshot import CallSnapshot

SAMPLE_RATE = 8000
"""Hz of every frame a transport delivers."""
FRAME_SAMPLES = 160
"""20 ms at 8 kHz: the packetisation of RTP, Twilio and AudioHook alike."""

MAX_MALFORMED = 20
"""Bad messages or frames tolerated on one connection before it is closed as broken."""
END_STOP = "stop"
END_DISCONNECT = "disconnect"
END_REFUSED = "refused"
"""Why a transport ended a call: the platform said so, the connection went, the service
refused it (the sink raised a CallError)."""

Track = Literal["caller", "agent"]
"""The caller's track is verified; the agent's is kept apart (never enrolled or scored)."""
TRACKS: tuple[Track, ...] = ("caller", "agent")


@dataclass(frozen=True, slots=True)
class CallStart:
    """A call as its transport (or the platform, through the API) announces it.

    customer_id: the claimed customer when the platform already knows it (CRM lookup, IVR);
    parameters: platform extras kept with the call (Twilio customParameters, AudioHook
    participant), never used for decisions unless a rule names them.
    """

    call_id: str
    transport: str
    ani: str | None = None
    dnis: str | None = None
    customer_id: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)


class CallSink(Protocol):
    """The call service as transports see it (a test may pass a recorder instead).

    `start` raises CallExists for an open id unless `attach` (the call was opened through the
    API and this transport now brings its audio), CallRejected while draining or full;
    `audio`, `dtmf` and `end` raise UnknownCall for an id that is not open. `audio` takes
    8 kHz mono int16 samples of one track and never blocks on model work.
    """

    async def start(self, start: CallStart, *, attach: bool = False) -> None: ...

    async def audio(self, call_id: str, track: Track, pcm: npt.NDArray[np.int16]) -> None: ...

    async def dtmf(self, call_id: str, digit: str) -> None: ...

    async def end(self, call_id: str, reason: str) -> CallSnapshot: ...

    def snapshot(self, call_id: str) -> CallSnapshot: ...
