"""Cross-crop mask logits: where the embeddings of crop b meet the features of crop t(b).

A unified network's mask logits of crop b are ``E_b . F_b``: its segment embeddings (mask
embeddings of Mask2Former's queries, Panoptic FCN's dynamic kernels) times its per-pixel
features. Intra-Batch Supervision (paper §4.1) adds ``E_b . F_t(b)``, the masks of crop b's
segments predicted in another crop t(b) of the batch. :func:`cross_crop_logits` computes those
products for the rows that are supervised, grouped by target crop, without a (B, Q, h, w) tensor
and without copying features per row; with ``targets = arange(B)`` it gives the regular logits.
"""
import torch
from torch import Tensor


def cross_crop_logits(rows: Tensor, src_crop: Tensor, features: Tensor, targets: Tensor) -> Tensor:
    """Row n times the features of the target crop of its source crop.

    Args:
        rows: Segment embeddings, shape (N, C).
        src_crop: Source crop of each row, int64, shape (N,).
        features: Per-pixel features of the batch, shape (B, C, h, w).
        targets: Target crop t(b) of every crop b, int64, shape (B,); the rows' source crops
            must have one (non-negative).

    Returns:
        ``rows[n] . features[targets[src_crop[n]]]``, shape (N, h, w); connected to the graph of
        both inputs also when N == 0. Each group of rows with the same target crop is one
        (n_t, C) x (C, h*w) product against a view of that crop's features.

    Raises:
        ValueError: a row's source crop has no target.
    """
    if rows.shape[0] and bool((targets[src_crop] < 0).any()):
        raise ValueError('cross_crop_logits: a row comes from a crop without target')
    return logits_on_targets(rows, targets[src_crop], features)


def logits_on_targets(rows: Tensor, row_targets: Tensor, features: Tensor) -> Tensor:
    """Row n times the features of crop ``row_targets[n]``, one product per target crop.

    Args:
        rows: Segment embeddings, shape (N, C) (with several targets per embedding: one row per
            (embedding, target) pair).
        row_targets: Crop of each row's product, int64 (N,), each in [0, B).
        features: Per-pixel features of the batch, shape (B, C, h, w).

    Returns:
        ``rows[n] . features[row_targets[n]]``, shape (N, h, w); connected to the graph of both
        inputs also when N == 0.
    """
    height, width = features.shape[-2:]
    flat = features.flatten(2)  # (B, C, h*w), a view
    if rows.shape[0] == 0:
        return (rows @ flat[0]).view(0, height, width)
    # One view per crop: the backward stacks the crops' gradients once, where indexing
    # flat[target] per group would allocate a zero (B, C, h*w) gradient per group.
    per_crop = flat.unbind(0)
    groups, rows_in_order = [], []
    for target in torch.unique(row_targets).tolist():
        members = (row_targets == target).nonzero(as_tuple=True)[0]
        groups.append(rows[members] @ per_crop[target])  # (n_t, h*w)
        rows_in_order.append(members)
    order = torch.cat(rows_in_order)
    identity = torch.arange(order.shape[0], device=order.device)
    if torch.equal(order, identity):  # rows already grouped by target crop: no reordering copy
        return torch.cat(groups).view(-1, height, width)
    inverse = torch.empty_like(order)
    inverse[order] = identity
    return torch.cat(groups)[inverse].view(-1, height, width)
