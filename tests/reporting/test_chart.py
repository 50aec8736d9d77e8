"""The KPI chart is a real PNG of the documented size, with calls and without."""

from __future__ import annotations

import struct

from voiceauth.reporting.chart import DPI, SIZE_INCHES, kpi_chart
from voiceauth.reporting.kpi import kpi_report

from .helpers import sample_outcomes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which PNG requires first (RFC 2083 §4.1.1)."""
    assert data[:8] == PNG_SIGNATURE
    length, kind, width, height = struct.unpack(">I4sII", data[8:24])
    assert (length, kind) == (13, b"IHDR")
    return width, height


def test_chart_is_a_png_of_the_documented_size() -> None:
    data = kpi_chart(kpi_report(sample_outcomes()))
    assert _png_size(data) == (int(SIZE_INCHES[0] * DPI), int(SIZE_INCHES[1] * DPI))
    assert data.endswith(b"IEND\xaeB`\x82")
    assert len(data) > 10_000  # axes, two lines of markers, legends: not a blank canvas


def test_chart_of_no_calls_still_draws() -> None:
    data = kpi_chart(kpi_report([]))
    assert _png_size(data) == (900, 600)
    assert len(data) < len(kpi_chart(kpi_report(sample_outcomes())))
