"""DET plots: miss rate against false-alarm rate on normal-deviate axes.

On probit axes (Martin et al., "The DET curve in assessment of detection task performance",
Eurospeech 1997) two Gaussian score distributions give a straight line, so systems are
compared over the whole low-FMR region that matters for authentication. The figure is drawn
on an Agg canvas directly: no pyplot state, no display, safe in a server or a test.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy.stats import norm

Curve = tuple[npt.ArrayLike, npt.ArrayLike]

# Candidate tick positions (fractions); those inside the axis limits are shown, as percent.
_TICKS = (
    0.0001,
    0.001,
    0.002,
    0.005,
    0.01,
    0.02,
    0.05,
    0.1,
    0.2,
    0.4,
    0.6,
    0.8,
    0.9,
    0.95,
    0.98,
    0.99,
    0.995,
    0.999,
)
# fmt: on


def _percent(p: float) -> str:
    return f"{p * 100:g}"


def plot_det(
    curves: Mapping[str, Curve],
    path: str | os.PathLike[str],
    *,
    title: str = "DET curve",
    eers: Mapping[str, float] | None = None,
    limits: tuple[float, float] = (0.0001, 0.5),
    dpi: int = 120,
) -> None:
    """Write a PNG with one DET curve per name: curves[name] = (fmr, fnmr) as fractions.

    eers[name], if given, marks that curve's EER (a fraction) on the diagonal. `limits` are
    the axis range for both rates; curves run off the axes beyond them.
    """
    low, high = limits
    if not 0.0 < low < high < 1.0:
        raise ValueError(f"plot_det: limits must satisfy 0 < low < high < 1, got {limits}")
    if not curves:
        raise ValueError("plot_det: no curves to plot")
    eers = eers or {}
    unknown = sorted(set(eers) - set(curves))
    if unknown:
        raise ValueError(f"plot_det: EER given for unknown curve(s) {unknown}")
    edge_lo, edge_hi = float(norm.ppf(low)), float(norm.ppf(high))
    # Rates beyond the limits (exact 0 and 1 included) are drawn just outside the axes, where
    # they are cut off, rather than along the border.
    outside = (low / 2.0, (1.0 + high) / 2.0)

    def probit(p: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return np.asarray(norm.ppf(np.clip(np.asarray(p, dtype=np.float64), *outside)))

    fig = Figure(figsize=(6.0, 6.0))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for name, (fmr, fnmr) in curves.items():
        x = np.asarray(fmr, dtype=np.float64)
        y = np.asarray(fnmr, dtype=np.float64)
        if x.shape != y.shape or x.ndim != 1 or x.size == 0:
            raise ValueError(
                f"plot_det: curve {name!r} needs equal-length 1-D fmr and fnmr, "
                f"got {x.shape} and {y.shape}"
            )
        (line,) = ax.plot(probit(x), probit(y), label=name, linewidth=1.5)
        if name in eers:
            point = probit([eers[name]])
            ax.plot(point, point, "o", color=line.get_color(), markersize=6)
            line.set_label(f"{name} (EER {eers[name] * 100:.2f} %)")
    ax.plot([edge_lo, edge_hi], [edge_lo, edge_hi], ":", color="grey", linewidth=0.8)
    ticks = [t for t in _TICKS if low <= t <= high]
    ax.set_xticks(probit(ticks), [_percent(t) for t in ticks])
    ax.set_yticks(probit(ticks), [_percent(t) for t in ticks])
    ax.set_xlim(edge_lo, edge_hi)
    ax.set_ylim(edge_lo, edge_hi)
    ax.set_xlabel("False match rate (%)")
    ax.set_ylabel("False non-match rate (%)")
    ax.set_title(title)
    ax.grid(True, linewidth=0.4)
    ax.legend(loc="upper right", fontsize="small")
    fig.savefig(os.fspath(path), format="png", dpi=dpi)
