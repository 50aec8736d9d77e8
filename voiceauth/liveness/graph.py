"""The graph layers of AASIST: graph attention, heterogeneous stacking attention, graph pooling.

Jung et al., "AASIST: Audio Anti-Spoofing using Integrated Spectro-Temporal Graph Attention
Networks", ICASSP 2022. A graph here is a set of nodes (batch, nodes, dim) that are all
connected: attention weights come from the element-wise product of every pair of nodes, so
the layers work on any node count. Attribute names follow the published state_dict, since
weights are loaded by name (`att_proj`, `proj_with_att`, `att_weight11`, ...).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

INPUT_DROPOUT = 0.2
"""Dropout on node features before attention (training only), as in the paper's layers."""


def _pairwise_products(nodes: torch.Tensor) -> torch.Tensor:
    """(B, N, D) -> (B, N, N, D): the product of node i and node j at [:, i, j]."""
    return nodes.unsqueeze(2) * nodes.unsqueeze(1)


def _batch_norm_nodes(norm: nn.BatchNorm1d, nodes: torch.Tensor) -> torch.Tensor:
    """Batch-normalise every node's features with one set of statistics over batch x nodes."""
    batch, count, dim = nodes.shape
    normed: torch.Tensor = norm(nodes.reshape(batch * count, dim))
    return normed.reshape(batch, count, dim)


def _attention_vector(dim: int) -> nn.Parameter:
    """A (dim, 1) attention vector, Xavier-initialised (only matters when training)."""
    weight = torch.empty(dim, 1)
    nn.init.xavier_normal_(weight)
    return nn.Parameter(weight)


class GraphAttention(nn.Module):
    """Graph attention over one kind of node (GAT-S over sub-bands, GAT-T over frames; §2.2).

    Attention between nodes i and j: w^T tanh(W (h_i * h_j)) / temperature, soft-maxed over j.
    Output: W_a (sum_j a_ij h_j) + W_r h_i (an attended and a residual projection), batch norm,
    SELU. A temperature above 1 flattens the attention (the paper uses 2 for GAT-S and GAT-T).
    """

    def __init__(self, in_dim: int, out_dim: int, *, temperature: float) -> None:
        super().__init__()
        self.att_proj = nn.Linear(in_dim, out_dim)
        self.att_weight = _attention_vector(out_dim)
        self.proj_with_att = nn.Linear(in_dim, out_dim)
        self.proj_without_att = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)
        self.input_drop = nn.Dropout(INPUT_DROPOUT)
        self.temperature = temperature

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        nodes = self.input_drop(nodes)
        logits = torch.tanh(self.att_proj(_pairwise_products(nodes))) @ self.att_weight
        attention = torch.softmax(logits.squeeze(-1) / self.temperature, dim=-1)
        out = self.proj_with_att(attention @ nodes) + self.proj_without_att(nodes)
        return functional.selu(_batch_norm_nodes(self.bn, out))


class HeteroGraphAttention(nn.Module):
    """Heterogeneous stacking graph attention layer, HS-GAL (§2.3).

    Temporal and spectral nodes are first projected into one space (one projection per type),
    then attend to each other over their union with three attention vectors: within type 1,
    within type 2, and across types (one vector shared by both directions). A stack node (the
    paper's master node) attends to all nodes with its own projections and vector, gathering
    what both graphs say. Returns the updated type-1 nodes, type-2 nodes and stack node.
    """

    def __init__(self, in_dim: int, out_dim: int, *, temperature: float) -> None:
        super().__init__()
        self.proj_type1 = nn.Linear(in_dim, in_dim)
        self.proj_type2 = nn.Linear(in_dim, in_dim)
        self.att_proj = nn.Linear(in_dim, out_dim)
        self.att_projM = nn.Linear(in_dim, out_dim)
        self.att_weight11 = _attention_vector(out_dim)
        self.att_weight22 = _attention_vector(out_dim)
        self.att_weight12 = _attention_vector(out_dim)
        self.att_weightM = _attention_vector(out_dim)
        self.proj_with_att = nn.Linear(in_dim, out_dim)
        self.proj_without_att = nn.Linear(in_dim, out_dim)
        self.proj_with_attM = nn.Linear(in_dim, out_dim)
        self.proj_without_attM = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)
        self.input_drop = nn.Dropout(INPUT_DROPOUT)
        self.temperature = temperature

    def forward(
        self, type1: torch.Tensor, type2: torch.Tensor, stack: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """type1 (B, N1, in), type2 (B, N2, in), stack (B or 1, 1, in) -> same, with out dims."""
        n1 = type1.shape[1]
        nodes = torch.cat([self.proj_type1(type1), self.proj_type2(type2)], dim=1)
        nodes = self.input_drop(nodes)
        stack = self._update_stack(nodes, stack)
        hidden = torch.tanh(self.att_proj(_pairwise_products(nodes)))
        logits = self._typed_logits(hidden, n1)
        attention = torch.softmax(logits / self.temperature, dim=-1)
        out = self.proj_with_att(attention @ nodes) + self.proj_without_att(nodes)
        out = functional.selu(_batch_norm_nodes(self.bn, out))
        return out[:, :n1], out[:, n1:], stack

    def _typed_logits(self, hidden: torch.Tensor, n1: int) -> torch.Tensor:
        """(B, N, N, out) -> (B, N, N) logits, each block scored by its own attention vector."""
        within1 = hidden[:, :n1, :n1] @ self.att_weight11
        within2 = hidden[:, n1:, n1:] @ self.att_weight22
        one_to_two = hidden[:, :n1, n1:] @ self.att_weight12
        two_to_one = hidden[:, n1:, :n1] @ self.att_weight12
        top = torch.cat([within1, one_to_two], dim=2)
        bottom = torch.cat([two_to_one, within2], dim=2)
        return torch.cat([top, bottom], dim=1).squeeze(-1)

    def _update_stack(self, nodes: torch.Tensor, stack: torch.Tensor) -> torch.Tensor:
        """The stack node attends over all nodes (B, N, in) -> new stack node (B, 1, out)."""
        logits = torch.tanh(self.att_projM(nodes * stack)) @ self.att_weightM  # (B, N, 1)
        attention = torch.softmax(logits / self.temperature, dim=1)
        gathered = attention.transpose(1, 2) @ nodes  # (B, 1, in)
        updated: torch.Tensor = self.proj_with_attM(gathered) + self.proj_without_attM(stack)
        return updated


class GraphPool(nn.Module):
    """Graph pooling (Gao & Ji, "Graph U-Nets", ICML 2019), used after every attention layer.

    Each node gets a gate sigmoid(p^T h); nodes are scaled by their gate and the top
    `ratio` of them (at least one, rounded down) are kept, in descending gate order.
    """

    def __init__(self, ratio: float, in_dim: int, *, dropout: float = 0.3) -> None:
        super().__init__()
        self.ratio = ratio
        self.proj = nn.Linear(in_dim, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        gates: torch.Tensor = torch.sigmoid(self.proj(self.drop(nodes)))  # (B, N, 1)
        keep = max(int(nodes.shape[1] * self.ratio), 1)
        _, index = torch.topk(gates, keep, dim=1)
        kept: torch.Tensor = torch.gather(nodes * gates, 1, index.expand(-1, -1, nodes.shape[2]))
        return kept
