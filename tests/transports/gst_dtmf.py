"""Press DTMF digits as RFC 4733 events from GStreamer's rtpdtmfsrc, beside live PCMU audio.

Run with Debian's /usr/bin/python3 (python3-gi; the project's venv has no `gi`):
    gst_dtmf.py HOST PORT DIGITS [--separate]
By default rtpdtmfmux merges the events into the audio stream (one SSRC, one sequence, as a
phone does); with --separate the events leave from their own udpsink with their own SSRC.
Prints nothing; exits 0 once every digit was pressed and released.
"""

from __future__ import annotations

import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

PRESS_S = 0.15
PAUSE_S = 0.15
TAIL_S = 0.5
"""rtpdtmfsrc sends a press's packets behind the events that start and stop it: let it finish."""
EVENT_PT = 101
DIGIT_EVENTS = {**{str(n): n for n in range(10)}, "*": 10, "#": 11}


def pipeline_text(host: str, port: int, separate: bool) -> str:
    audio = (
        "audiotestsrc is-live=true wave=sine freq=300 volume=0.3 samplesperbuffer=160 "
        "! audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay pt=0"
    )
    sink = f"udpsink host={host} port={port} sync=false async=false"
    dtmf = f"rtpdtmfsrc name=dtmf pt={EVENT_PT} packet-redundancy=3"
    if separate:
        return f"{audio} ! {sink}  {dtmf} ! {sink}"
    return f"rtpdtmfmux name=mux ! {sink}  {audio} ! mux.  {dtmf} ! mux."


def dtmf_event(number: int, start: bool) -> Gst.Event:
    fields = Gst.Structure.new_empty("dtmf-event")
    fields.set_value("type", 1)  # 1: an event (RFC 4733), not a tone
    fields.set_value("number", number)
    fields.set_value("volume", 25)
    fields.set_value("start", start)
    return Gst.Event.new_custom(Gst.EventType.CUSTOM_UPSTREAM, fields)


def main(host: str, port: int, digits: str, separate: bool) -> int:
    Gst.init(None)
    pipeline = Gst.parse_launch(pipeline_text(host, port, separate))
    pad = pipeline.get_by_name("dtmf").get_static_pad("src")
    pipeline.set_state(Gst.State.PLAYING)
    pipeline.get_state(5 * Gst.SECOND)
    time.sleep(0.3)  # some audio first: the caller's SSRC is known before the keys
    for digit in digits:
        pad.send_event(dtmf_event(DIGIT_EVENTS[digit], True))
        time.sleep(PRESS_S)
        pad.send_event(dtmf_event(DIGIT_EVENTS[digit], False))
        time.sleep(PAUSE_S)
    time.sleep(TAIL_S)
    pipeline.set_state(Gst.State.NULL)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], "--separate" in sys.argv[4:]))
