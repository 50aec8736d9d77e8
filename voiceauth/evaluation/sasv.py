"""Spoofing-aware verification figures (the SASV challenge's, Shim et al., Interspeech 2022).

Three kinds of trial meet at an enrolment: targets (the speaker, live), non-targets (someone
else, live) and spoofs (a replay or clone of the speaker). Given one score per trial:

- `spf_eer`: targets against spoofs of the *same* speakers: can the score tell the customer
  from a clone of the customer? (speakers without both kinds of trial are left out);
- `sasv_eer`: targets against non-targets and spoofs together: the system's EER when
  anything but the live customer must be refused;
- `spoof_accept_rate`: the share of spoofs accepted at the operating threshold, beside the
  FMR and FNMR of bona fide trials at that threshold.

Rates are in percent, like the other figures of `voiceauth eval`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from voiceauth.scoring.metrics import eer


def spoof_figures(
    scores: npt.ArrayLike,
    target: npt.ArrayLike,
    spoof: npt.ArrayLike,
    speaker: npt.ArrayLike,
    *,
    threshold: float,
) -> dict[str, Any]:
    """The figures above for (n,) trial scores, `target`/`spoof` masks and enrolled `speaker`;
    accept means score >= threshold. Needs target and spoof trials."""
    s = np.asarray(scores, dtype=np.float64)
    is_target = np.asarray(target, dtype=bool)
    is_spoof = np.asarray(spoof, dtype=bool)
    enrolled = np.asarray(speaker)
    is_non = ~is_target & ~is_spoof
    if not is_target.any() or not is_spoof.any():
        raise ValueError("spoof figures need target and spoof trials")
    attacked = np.intersect1d(enrolled[is_spoof], enrolled[is_target])
    same = np.isin(enrolled, attacked)
    figures: dict[str, Any] = {
        "spf_eer": (
            100.0 * eer(s[is_target & same], s[is_spoof & same]) if attacked.size else None
        ),
        "sasv_eer": 100.0 * eer(s[is_target], s[~is_target]),
        "spoof_accept_rate": 100.0 * float(np.mean(s[is_spoof] >= threshold)),
        "fnmr_at_threshold": 100.0 * float(np.mean(s[is_target] < threshold)),
        "fmr_at_threshold": (
            100.0 * float(np.mean(s[is_non] >= threshold)) if is_non.any() else None
        ),
        "n_spoof": int(is_spoof.sum()),
        "n_spf_speakers": int(attacked.size),
        "n_spf_target": int((is_target & same).sum()),
        "n_spf_spoof": int((is_spoof & same).sum()),
    }
    return figures
