"""The fused LLR of spoof-aware verification: a learned soft minimum of voice and liveness.

Three hypotheses meet at a claim: the enrolled customer speaking live (target, T), another live
person (non-target, N), and a replay or clone of the customer (spoof, S). The voice LLR `v`
weighs T against N, the countermeasure LLR `c` weighs live against spoof. A clone sounds like
the customer (p(voice | S) ~ p(voice | T)) and an impostor is live (p(cm | N) ~ p(cm | T)), so
with pi_N + pi_S = 1 the LLR of T against "N or S" is

    fused = -log(pi_N exp(-v) + pi_S exp(-c))

(the product-of-posteriors rule of probabilistic SASV fusion, Zhang et al., "A probabilistic
fusion framework for spoofing aware speaker verification", Odyssey 2022). It is a soft minimum:
either LLR clearly against drags the fused LLR down however strong the other is, which is what
weighted score summing cannot do (a perfect voice match of a clone would outvote the detector).
Real LLRs are imperfectly calibrated and the two assumptions hold only roughly (clones score
lower on voice), so the weights and offsets are fitted on held-out trials:

    fused = -log(exp(b_nontarget - w_voice v) + exp(b_spoof - w_cm c)),  w_voice, w_cm > 0

by minimising the logistic loss of T against N and S, the classes weighted to an effective
prior of 0.5 for T and equal shares of N and S, starting from (and weakly held to) the rule
above with pi_N = pi_S = 1/2. Four parameters fit on a few hundred trials; numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

RIDGE = 1e-3
"""Pull towards the product rule (per squared parameter unit): keeps the fit finite when the
classes are separable, negligible otherwise."""
_PRIOR = np.array([0.0, 0.0, math.log(0.5), math.log(0.5)])
"""(log w_voice, log w_cm, b_nontarget, b_spoof) of the product rule with calibrated inputs."""


@dataclass(frozen=True, slots=True)
class SoftMinParams:
    """w_voice, w_cm: positive slopes on the voice and countermeasure LLRs (natural log);
    b_nontarget, b_spoof: log-weights of the impostor and spoof hypotheses."""

    w_voice: float
    w_cm: float
    b_nontarget: float
    b_spoof: float

    def __post_init__(self) -> None:
        values = (self.w_voice, self.w_cm, self.b_nontarget, self.b_spoof)
        if not all(math.isfinite(x) for x in values):
            raise ValueError(f"fusion parameters must be finite, got {values}")
        if self.w_voice <= 0 or self.w_cm <= 0:
            raise ValueError(
                f"fusion weights must be positive, got w_voice={self.w_voice}, w_cm={self.w_cm}"
            )


def terms(params: SoftMinParams, voice_llr: npt.ArrayLike, cm_llr: npt.ArrayLike) -> Array:
    """(..., 2) log-weights of the non-target and the spoof hypothesis; the larger one is the
    main reason a fused LLR is low."""
    v = np.asarray(voice_llr, dtype=np.float64)
    c = np.asarray(cm_llr, dtype=np.float64)
    nontarget = params.b_nontarget - params.w_voice * v
    spoof = params.b_spoof - params.w_cm * c
    return np.stack(np.broadcast_arrays(nontarget, spoof), axis=-1)


def fused_llr(params: SoftMinParams, voice_llr: npt.ArrayLike, cm_llr: npt.ArrayLike) -> Array:
    """The fused LLR (natural log) of target against non-target or spoof, elementwise."""
    both = terms(params, voice_llr, cm_llr)
    return np.asarray(-np.logaddexp(both[..., 0], both[..., 1]), dtype=np.float64)


def fit_softmin(
    voice_llr: npt.ArrayLike, cm_llr: npt.ArrayLike, target: npt.ArrayLike, spoof: npt.ArrayLike
) -> SoftMinParams:
    """Fit the parameters on trials: (n,) LLRs, `target` and `spoof` (n,) bool masks (neither
    = non-target). Needs trials of all three classes."""
    v = np.asarray(voice_llr, dtype=np.float64)
    c = np.asarray(cm_llr, dtype=np.float64)
    is_target = np.asarray(target, dtype=bool)
    is_spoof = np.asarray(spoof, dtype=bool) & ~is_target
    if not (v.shape == c.shape == is_target.shape == is_spoof.shape) or v.ndim != 1:
        raise ValueError(
            f"fit_softmin: need equal (n,) arrays, got {v.shape}, {c.shape}, "
            f"{is_target.shape}, {is_spoof.shape}"
        )
    if not (np.all(np.isfinite(v)) and np.all(np.isfinite(c))):
        raise ValueError("fit_softmin: LLRs contain NaN or infinity")
    is_non = ~is_target & ~is_spoof
    counts = {"target": is_target.sum(), "non-target": is_non.sum(), "spoof": is_spoof.sum()}
    if min(counts.values()) == 0:
        raise ValueError(f"fit_softmin: need trials of every class, got {counts}")
    weight = np.where(is_target, 0.5 / counts["target"], 0.0)
    weight += np.where(is_non, 0.25 / counts["non-target"], 0.0)
    weight += np.where(is_spoof, 0.25 / counts["spoof"], 0.0)
    y = is_target.astype(np.float64)

    def loss_and_gradient(theta: Array) -> tuple[float, Array]:
        w_v, w_c = math.exp(theta[0]), math.exp(theta[1])
        a = np.stack([theta[2] - w_v * v, theta[3] - w_c * c], axis=1)
        log_sum = np.logaddexp(a[:, 0], a[:, 1])
        fused = -log_sum
        share = np.exp(a - log_sum[:, None])  # d log_sum / d a
        # logistic loss: softplus(-f) for targets, softplus(f) for the rest
        loss = np.sum(weight * np.logaddexp(0.0, np.where(y == 1.0, -fused, fused)))
        d_fused = weight * (_sigmoid(fused) - y)
        gradient = np.array(
            [
                np.sum(d_fused * share[:, 0] * v) * w_v,
                np.sum(d_fused * share[:, 1] * c) * w_c,
                -np.sum(d_fused * share[:, 0]),
                -np.sum(d_fused * share[:, 1]),
            ]
        )
        offset = theta - _PRIOR
        return float(loss + RIDGE * offset @ offset), gradient + 2 * RIDGE * offset

    theta = _bfgs(loss_and_gradient, _PRIOR.copy())
    return SoftMinParams(
        w_voice=math.exp(theta[0]),
        w_cm=math.exp(theta[1]),
        b_nontarget=float(theta[2]),
        b_spoof=float(theta[3]),
    )


def _sigmoid(x: Array) -> Array:
    return np.exp(-np.logaddexp(0.0, -x))


def _bfgs(
    fun: Callable[[Array], tuple[float, Array]],
    x: Array,
    *,
    max_iter: int = 200,
    tol: float = 1e-9,
) -> Array:
    """Quasi-Newton minimisation with Armijo backtracking (Nocedal & Wright, alg. 6.1): four
    parameters need nothing larger."""
    value, gradient = fun(x)
    inverse_hessian = np.eye(x.size)
    for _ in range(max_iter):
        direction = -inverse_hessian @ gradient
        if gradient @ direction >= 0:
            inverse_hessian = np.eye(x.size)
            direction = -gradient
        step = 1.0
        while True:
            candidate = x + step * direction
            new_value, new_gradient = fun(candidate)
            if new_value <= value + 1e-4 * step * (gradient @ direction) or step < 1e-12:
                break
            step /= 2
        s, y = candidate - x, new_gradient - gradient
        x, value, gradient = candidate, new_value, new_gradient
        if np.max(np.abs(gradient)) < tol:
            break
        sy = s @ y
        if sy > 1e-12:
            left = np.eye(x.size) - np.outer(s, y) / sy
            inverse_hessian = left @ inverse_hessian @ left.T + np.outer(s, s) / sy
    return x
