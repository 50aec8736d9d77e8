"""The AASIST architecture against the published weights: strict loading, shapes, outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from voiceauth.errors import ModelIntegrityError, ModelNotFound
from voiceauth.liveness.aasist import AASIST, AASIST_L, WINDOW_SAMPLES, AasistNet, load_aasist
from voiceauth.liveness.graph import GraphPool, HeteroGraphAttention


@pytest.mark.parametrize(
    ("file", "config", "parameters"),
    [("AASIST.pth", AASIST, 297_000), ("AASIST-L.pth", AASIST_L, 85_000)],
)
def test_published_weights_load_strictly(
    aasist_dir: Path, file: str, config: object, parameters: int
) -> None:
    """Strict loading: every published key has a module, every module a key, shapes equal."""
    net = load_aasist(aasist_dir / file, config)  # type: ignore[arg-type]
    state = torch.load(aasist_dir / file, map_location="cpu", weights_only=True)
    assert set(net.state_dict()) == set(state)
    assert all(net.state_dict()[k].shape == v.shape for k, v in state.items())
    trainable = sum(p.numel() for p in net.parameters())
    assert abs(trainable - parameters) / parameters < 0.02  # README: 297 k and 85 k
    assert not net.training


def test_wrong_configuration_is_refused_with_the_file_named(aasist_dir: Path) -> None:
    with pytest.raises(ModelIntegrityError, match=r"AASIST\.pth does not fit"):
        load_aasist(aasist_dir / "AASIST.pth", AASIST_L)


def test_missing_weights_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="AASIST weights not found: .*nothing.pth"):
        load_aasist(tmp_path / "nothing.pth", AASIST)


def test_forward_gives_two_float32_logits_per_window(aasist_dir: Path, one_thread: None) -> None:
    net = load_aasist(aasist_dir / "AASIST.pth", AASIST)
    waveform = torch.from_numpy(np.random.default_rng(0).normal(0, 0.05, (2, WINDOW_SAMPLES)))
    with torch.inference_mode():
        logits = net(waveform.float())
    assert logits.shape == (2, 2) and logits.dtype == torch.float32
    assert torch.isfinite(logits).all()


def test_untrained_network_trains_a_step() -> None:
    """Gradients reach the first encoder block: nothing in the graph is detached."""
    net = AasistNet(AASIST_L).train()
    waveform = torch.randn(2, WINDOW_SAMPLES) * 0.05
    loss = torch.nn.functional.cross_entropy(net(waveform), torch.tensor([0, 1]))
    loss.backward()
    grad = net.encoder[0][0].conv1.weight.grad
    assert grad is not None and float(grad.abs().sum()) > 0


def test_hetero_graph_attention_keeps_node_types_apart() -> None:
    layer = HeteroGraphAttention(8, 4, temperature=100.0).eval()
    t, s, stack = layer(torch.randn(3, 5, 8), torch.randn(3, 7, 8), torch.randn(1, 1, 8))
    assert t.shape == (3, 5, 4) and s.shape == (3, 7, 4) and stack.shape == (3, 1, 4)


def test_graph_pool_keeps_the_top_share_scaled_by_its_gate() -> None:
    pool = GraphPool(0.7, 4).eval()
    with torch.no_grad():
        pool.proj.weight.copy_(torch.tensor([[1.0, 0.0, 0.0, 0.0]]))
        pool.proj.bias.zero_()
    nodes = torch.zeros(1, 10, 4)
    nodes[0, :, 0] = torch.arange(10, dtype=torch.float32)
    kept = pool(nodes)
    assert kept.shape == (1, 7, 4)  # int(10 * 0.7)
    gates = torch.sigmoid(torch.arange(9, 2, -1, dtype=torch.float32))
    assert torch.allclose(kept[0, :, 0], torch.arange(9, 2, -1) * gates)
