"""AASIST and AASIST-L: voiceauth's implementation of the published spoofing countermeasure.

Jung, Heo, Tak, Shim, Chung, Lee, Yu and Evans, "AASIST: Audio Anti-Spoofing using Integrated
Spectro-Temporal Graph Attention Networks", ICASSP 2022. The pipeline, from raw 16 kHz audio:

1. a fixed mel-spaced sinc filterbank (`sinc.SincFilterbank`), |.|, 3x3 max-pool, BN, SELU:
   a (1, sub-bands, frames) "spectrogram" learned end to end behind fixed filters;
2. a residual encoder of six 2-D blocks (conv 2x3, BN, SELU, conv 2x3, max-pool 1x3 in time);
3. two graphs from the encoder output: spectral nodes (max |.| over time, plus a learned
   positional embedding) and temporal nodes (max |.| over frequency), each through graph
   attention (`graph.GraphAttention`) and graph pooling;
4. two parallel branches of two heterogeneous stacking graph attention layers
   (`graph.HeteroGraphAttention`) over both graphs with a learned stack (master) node, the
   second layer of each branch residual, the branches merged by element-wise max;
5. readout: max |.| and mean over the temporal and the spectral nodes, and the stack node,
   concatenated (5 x gat_dims[1]) into a linear layer with two logits, index 1 = bona fide.

Module and attribute names follow the published state_dict so that its weights load strictly
(`load_aasist`): every key and shape must match, which checks the architecture.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional

from voiceauth.errors import ModelIntegrityError, ModelNotFound
from voiceauth.liveness.graph import GraphAttention, GraphPool, HeteroGraphAttention
from voiceauth.liveness.sinc import SincFilterbank

SAMPLE_RATE = 16_000
WINDOW_SAMPLES = 64_600
"""Input length of the published models (~4.04 s at 16 kHz); node counts depend on it."""
SPECTRAL_NODES = 23
"""Sub-band nodes left after the 3x3 max-pool of 70 filters: the length of `pos_S`."""
BONAFIDE_INDEX = 1


@dataclass(frozen=True, slots=True)
class AasistConfig:
    """The hyper-parameters of one published model (see ../shared/models/README.md).

    filters: sinc filter count, then (in, out) channels of the encoder's first four blocks
    (the last pair repeats for blocks five and six). pool_ratios: share of nodes kept after
    GAT-S, GAT-T and each HS-GAL (the fourth is unused, as published). temperatures: of GAT-S,
    GAT-T and the HS-GALs (the fourth is unused).
    """

    first_conv: int
    sinc_filters: int
    blocks: tuple[tuple[int, int], ...]
    gat_dims: tuple[int, int]
    pool_ratios: tuple[float, float, float, float]
    temperatures: tuple[float, float, float, float]


AASIST = AasistConfig(
    first_conv=128,
    sinc_filters=70,
    blocks=((1, 32), (32, 32), (32, 64), (64, 64)),
    gat_dims=(64, 32),
    pool_ratios=(0.5, 0.7, 0.5, 0.5),
    temperatures=(2.0, 2.0, 100.0, 100.0),
)
AASIST_L = AasistConfig(
    first_conv=128,
    sinc_filters=70,
    blocks=((1, 32), (32, 32), (32, 24), (24, 24)),
    gat_dims=(24, 32),
    pool_ratios=(0.5, 0.7, 0.5, 0.5),
    temperatures=(2.0, 2.0, 100.0, 100.0),
)


class ResidualBlock(nn.Module):
    """One encoder block: conv(2x3) -> BN -> SELU -> conv(2x3), plus the (projected) input,
    then max-pool 1x3 along time.

    The 2x3 kernels pad one row on the first conv and none on the second, so the number of
    sub-bands is kept. Blocks after the first carry a `bn1` pre-activation in the published
    weights, but the published network feeds the block's raw input to `conv1` (the BN-SELU
    result is never used), and the weights were trained that way: reproducing them means
    doing the same, so `bn1` is kept only so that the state_dict loads strictly.
    """

    def __init__(self, in_channels: int, out_channels: int, *, first: bool) -> None:
        super().__init__()
        if not first:
            self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, (2, 3), padding=(1, 1))
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, (2, 3), padding=(0, 1))
        self.conv_downsample = (
            nn.Conv2d(in_channels, out_channels, (1, 3), padding=(0, 1))
            if in_channels != out_channels
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(functional.selu(self.bn2(self.conv1(x))))
        identity = x if self.conv_downsample is None else self.conv_downsample(x)
        return functional.max_pool2d(out + identity, (1, 3))


class AasistNet(nn.Module):
    """Raw waveform (batch, 64600) float32 at 16 kHz -> logits (batch, 2), index 1 bona fide."""

    def __init__(self, config: AasistConfig) -> None:
        super().__init__()
        channels = config.blocks[-1][1]
        gat_in, gat_out = config.gat_dims
        pools, temps = config.pool_ratios, config.temperatures
        self.conv_time = SincFilterbank(config.sinc_filters, config.first_conv, SAMPLE_RATE)
        self.first_bn = nn.BatchNorm2d(1)
        pairs = [*config.blocks, config.blocks[-1], config.blocks[-1]]
        self.encoder = nn.Sequential(
            *(nn.Sequential(ResidualBlock(a, b, first=i == 0)) for i, (a, b) in enumerate(pairs))
        )
        self.pos_S = nn.Parameter(torch.randn(1, SPECTRAL_NODES, channels))
        self.master1 = nn.Parameter(torch.randn(1, 1, gat_in))
        self.master2 = nn.Parameter(torch.randn(1, 1, gat_in))
        self.GAT_layer_S = GraphAttention(channels, gat_in, temperature=temps[0])
        self.GAT_layer_T = GraphAttention(channels, gat_in, temperature=temps[1])
        self.HtrgGAT_layer_ST11 = HeteroGraphAttention(gat_in, gat_out, temperature=temps[2])
        self.HtrgGAT_layer_ST12 = HeteroGraphAttention(gat_out, gat_out, temperature=temps[2])
        self.HtrgGAT_layer_ST21 = HeteroGraphAttention(gat_in, gat_out, temperature=temps[2])
        self.HtrgGAT_layer_ST22 = HeteroGraphAttention(gat_out, gat_out, temperature=temps[2])
        self.pool_S = GraphPool(pools[0], gat_in)
        self.pool_T = GraphPool(pools[1], gat_in)
        self.pool_hS1 = GraphPool(pools[2], gat_out)
        self.pool_hT1 = GraphPool(pools[2], gat_out)
        self.pool_hS2 = GraphPool(pools[2], gat_out)
        self.pool_hT2 = GraphPool(pools[2], gat_out)
        self.branch_drop = nn.Dropout(0.2)
        self.readout_drop = nn.Dropout(0.5)
        self.out_layer = nn.Linear(5 * gat_out, 2)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        x = self.conv_time(waveform).unsqueeze(1)  # (B, 1, filters, samples)
        x = functional.selu(self.first_bn(functional.max_pool2d(x.abs(), (3, 3))))
        encoded = self.encoder(x).abs()  # (B, channels, sub-bands, frames)
        spectral = encoded.amax(dim=3).transpose(1, 2) + self.pos_S
        temporal = encoded.amax(dim=2).transpose(1, 2)
        spectral = self.pool_S(self.GAT_layer_S(spectral))
        temporal = self.pool_T(self.GAT_layer_T(temporal))
        t1, s1, m1 = self._branch(
            temporal,
            spectral,
            self.master1,
            first=self.HtrgGAT_layer_ST11,
            second=self.HtrgGAT_layer_ST12,
            pool_t=self.pool_hT1,
            pool_s=self.pool_hS1,
        )
        t2, s2, m2 = self._branch(
            temporal,
            spectral,
            self.master2,
            first=self.HtrgGAT_layer_ST21,
            second=self.HtrgGAT_layer_ST22,
            pool_t=self.pool_hT2,
            pool_s=self.pool_hS2,
        )
        temporal = torch.maximum(self.branch_drop(t1), self.branch_drop(t2))
        spectral = torch.maximum(self.branch_drop(s1), self.branch_drop(s2))
        stack = torch.maximum(self.branch_drop(m1), self.branch_drop(m2))
        hidden = torch.cat(
            [
                temporal.abs().amax(dim=1),
                temporal.mean(dim=1),
                spectral.abs().amax(dim=1),
                spectral.mean(dim=1),
                stack.squeeze(1).expand(temporal.shape[0], -1),
            ],
            dim=1,
        )
        logits: torch.Tensor = self.out_layer(self.readout_drop(hidden))
        return logits

    @staticmethod
    def _branch(
        temporal: torch.Tensor,
        spectral: torch.Tensor,
        stack: torch.Tensor,
        *,
        first: HeteroGraphAttention,
        second: HeteroGraphAttention,
        pool_t: GraphPool,
        pool_s: GraphPool,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One inference branch: HS-GAL, graph pooling, then a residual HS-GAL (§2.3)."""
        temporal, spectral, stack = first(temporal, spectral, stack)
        temporal, spectral = pool_t(temporal), pool_s(spectral)
        more_t, more_s, more_stack = second(temporal, spectral, stack)
        return temporal + more_t, spectral + more_s, stack + more_stack


def load_aasist(path: Path, config: AasistConfig) -> AasistNet:
    """Build the network for config and load a published state_dict strictly, in eval mode.

    Loads tensors only (`weights_only=True`: no pickled code runs). A missing file raises
    ModelNotFound; a key or shape that does not match the architecture ModelIntegrityError.
    """
    if not path.is_file():
        raise ModelNotFound(
            f"AASIST weights not found: {path}; the published state_dicts (AASIST.pth, "
            "AASIST-L.pth, MIT licence, NAVER Corp.) come from github.com/clovaai/aasist"
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = AasistNet(config)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelIntegrityError(f"{path} does not fit the AASIST architecture: {exc}") from exc
    return net.eval()
