"""Cross-crop mask logits: where the mask embeddings of crop b meet the features of crop t(b).

The regular Mask2Former mask logits of crop b are ``E_b . F_b`` (embeddings times per-pixel
mask features of the same crop). Intra-Batch Supervision adds ``E_b . F_t(b)``, the masks of
crop b's segments predicted in another crop t(b) of the batch. Two equivalent computations:

* :func:`dense_cross_crop_logits`: the authors' computation, all queries of all crops,
  a (B, Q, h, w) tensor;
* :func:`lean_cross_crop_logits`: only the N supervised (crop, query) rows, a (N, h, w)
  tensor, grouped by target crop so that no copy of the features is made.
"""
import torch
from torch import Tensor


def dense_cross_crop_logits(mask_embed: Tensor, mask_feature: Tensor, targets: Tensor) -> Tensor:
    """Cross-crop logits of every query of every crop, as the authors compute them.

    Args:
        mask_embed: Mask embeddings E, shape (B, Q, C).
        mask_feature: Per-pixel mask features F, shape (B, C, h, w).
        targets: Target crop t(b) of every crop, int64, shape (B,). A crop without a target
            (negative index) is multiplied with its own features: its rows are not
            cross-crop logits and must not be supervised.

    Returns:
        ``E_b . F_t(b)`` for every b, shape (B, Q, h, w).
    """
    own = torch.arange(targets.shape[0], device=targets.device)
    targets = torch.where(targets >= 0, targets, own)
    return torch.einsum('bqc,bchw->bqhw', mask_embed, mask_feature[targets])


def lean_cross_crop_logits(mask_embed: Tensor, mask_feature: Tensor, src_crop: Tensor,
                           src_query: Tensor, targets: Tensor) -> Tensor:
    """Cross-crop logits of the selected (crop, query) rows only.

    Equals ``dense_cross_crop_logits(mask_embed, mask_feature, targets)[src_crop, src_query]``
    without the (B, Q, h, w) tensor and without gathering features per row: the rows are
    grouped by target crop and each group is one (n_t, C) x (C, h*w) product against a view
    of that crop's features.

    Args:
        mask_embed: Mask embeddings E, shape (B, Q, C).
        mask_feature: Per-pixel mask features F, shape (B, C, h, w).
        src_crop: Source crop of each of the N rows, int64, shape (N,).
        src_query: Query index of each row, int64, shape (N,).
        targets: Target crop t(b) of every crop, int64, shape (B,); the rows' source crops
            must have one (non-negative).

    Returns:
        ``E_b[q] . F_t(b)`` for every row (b, q), shape (N, h, w); connected to the graph of
        both inputs also when N == 0.
    """
    height, width = mask_feature.shape[-2:]
    features = mask_feature.flatten(2)  # (B, C, h*w), a view
    embeds = mask_embed[src_crop, src_query]  # (N, C)
    row_targets = targets[src_crop]  # (N,)
    if embeds.shape[0] == 0:
        return (embeds @ features[0]).view(0, height, width)
    groups, rows_in_order = [], []
    for target in torch.unique(row_targets).tolist():
        rows = (row_targets == target).nonzero(as_tuple=True)[0]
        groups.append(embeds[rows] @ features[target])  # (n_t, h*w)
        rows_in_order.append(rows)
    order = torch.cat(rows_in_order)
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(order.shape[0], device=order.device)
    return torch.cat(groups)[inverse].view(-1, height, width)


def kernel_cross_crop_logits(kernels: Tensor, src_crop: Tensor, mask_feature: Tensor,
                             targets: Tensor) -> Tensor:
    """Panoptic FCN: dynamic kernels of crop b times the encoded features of crop t(b).

    Panoptic FCN's kernels are not a (B, Q, C) tensor but N rows, each with its source crop
    (every top-K kernel of every (instance, level) pair in training). Row n gives
    ``kernels[n] . F_t(src_crop[n])``. With the identity ``targets = arange(B)`` these are the
    regular mask logits; with the partner (or a random other) crop, the IBS logits. Rows are
    grouped by target crop; each group is one (n_t, C) x (C, h*w) product against a view of
    that crop's features, so no per-row copy of the features is made.

    Args:
        kernels: Embedded kernels, shape (N, C).
        src_crop: Source crop of each row, int64, shape (N,).
        mask_feature: Encoded features, shape (B, C, h, w).
        targets: Target crop t(b) of every crop, int64, shape (B,); the rows' source crops
            must have one (non-negative).

    Returns:
        Logits, shape (N, h, w); connected to the graph of both inputs also when N == 0.
    """
    height, width = mask_feature.shape[-2:]
    features = mask_feature.flatten(2)  # (B, C, h*w), a view
    if kernels.shape[0] == 0:
        return (kernels @ features[0]).view(0, height, width)
    row_targets = targets[src_crop]
    if bool((row_targets < 0).any()):
        raise ValueError('kernel_cross_crop_logits: a row comes from a crop without target')
    groups, rows_in_order = [], []
    for target in torch.unique(row_targets).tolist():
        rows = (row_targets == target).nonzero(as_tuple=True)[0]
        groups.append(kernels[rows] @ features[target])  # (n_t, h*w)
        rows_in_order.append(rows)
    order = torch.cat(rows_in_order)
    identity = torch.arange(order.shape[0], device=order.device)
    if torch.equal(order, identity):  # rows already grouped by target crop: no reordering copy
        return torch.cat(groups).view(-1, height, width)
    inverse = torch.empty_like(order)
    inverse[order] = identity
    return torch.cat(groups)[inverse].view(-1, height, width)
