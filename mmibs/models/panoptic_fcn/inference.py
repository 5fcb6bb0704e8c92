"""Panoptic FCN inference for one image: candidates per level, kernel fusion, masks and scores.

Pure functions (no parameters, no batch dimension) that turn the head outputs of one image into
fused thing and stuff masks at stride 4; :class:`~mmibs.models.panoptic_fcn.PanopticFCNFusionHead`
then upsamples and combines them into a panoptic map. Maths of the official code
(``DdeGeus/PanopticFCN-IBS`` ``panopticfcn/panoptic_seg.py``: ``PanopticFCN.inference_single_level``
/ ``inference`` / ``process_inst``; ``panopticfcn/head.py``: the generators' ``kernel_fusion``):

1. per level, things: ``p = sigmoid(centre)``, ``p = (p + avgpool_k(p)) / 2`` (zero padding
   counted), 3x3 max-pool NMS, top ``min(H_l*W_l, top_num // 2)`` over classes x positions,
   keep ``score > center_thr``; the kernel is the kernel-map vector at the peak;
2. per level, stuff: ``r = sigmoid(region)``, per-position argmax class c, score = mean of
   ``r_c`` over the positions of c, keep ``score > stuff_thr``; the kernel is the mean over
   *all* positions of ``onehot_c * kernel map`` (as in training);
3. things of all levels sorted by score, embedded, fused by class-specific cosine similarity
   (:func:`fuse_thing_kernels`); stuff embedded and averaged per class (:func:`fuse_stuff_kernels`);
4. masks = sigmoid(kernel . encode_feat); things rescored by maskness, sorted, gated at
   ``score_gate`` and cut to ``top_num``.

``test_cfg`` keys read here: ``center_thr``, ``stuff_thr``, ``top_num``, ``mask_thr``,
``similar_thr`` (required), ``pool_sizes`` (default ``(3, 3, 3, 5, 5)``, one per level),
``class_specific`` (default True), ``score_gate`` (default 0.05).
"""
from typing import Callable, Dict, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.utils import get_local_maximum, get_topk_from_heatmap
from torch import Tensor

#: Pool sizes of the centre smoothing on P3..P7, hard-coded in the official code.
DEFAULT_POOL_SIZES = (3, 3, 3, 5, 5)
#: Thing score gate after maskness rescoring, hard-coded in the official code.
DEFAULT_SCORE_GATE = 0.05

Embed = Callable[[Tensor], Tensor]


def cfg_value(test_cfg, key: str, default=None):
    """``test_cfg[key]``, or ``default``; a missing key without default raises a clear error."""
    if test_cfg is not None and key in test_cfg:
        return test_cfg[key]
    if default is None:
        raise KeyError(f'Panoptic FCN inference needs test_cfg.{key} '
                       '(model.test_cfg in the config)')
    return default


def smooth_centers(center_probs: Tensor, pool_size: int) -> Tensor:
    """Average a centre heatmap with its ``pool_size`` box mean, zero padding counted.

    Args:
        center_probs: Centre probabilities, shape (N_th, H, W).
        pool_size: Odd box size k of the stride-1 average pool (padding (k - 1) / 2).

    Returns:
        ``(p + avgpool_k(p)) / 2``, shape (N_th, H, W).
    """
    if pool_size < 1 or pool_size % 2 == 0:
        raise ValueError(f'test_cfg.pool_sizes must hold odd sizes, got {pool_size}')
    pooled = F.avg_pool2d(center_probs[None], pool_size, stride=1, padding=(pool_size - 1) // 2,
                          count_include_pad=True)[0]
    return (center_probs + pooled) / 2


def thing_candidates(center_logits: Tensor, kernel_map: Tensor, pool_size: int, top_num: int,
                     center_thr: float) -> Tuple[Tensor, Tensor, Tensor]:
    """Thing kernel candidates of one level: smoothed, NMS'd centre peaks above the threshold.

    Args:
        center_logits: Centre heatmap logits, shape (N_th, H, W).
        kernel_map: Kernel map of the level, shape (C_k, H, W).
        pool_size: Box size of the centre smoothing of this level.
        top_num: ``TOP_NUM``; at most ``min(H * W, top_num // 2)`` peaks are taken.
        center_thr: Peaks need a smoothed score strictly above it.

    Returns:
        Kernels (n, C_k), scores (n,) in descending order, labels (n,) int64 (centre channel).
    """
    num_classes, height, width = center_logits.shape
    peaks = get_local_maximum(smooth_centers(center_logits.sigmoid(), pool_size)[None], kernel=3)
    num_top = min(height * width, top_num // 2)
    scores, positions, labels, _, _ = get_topk_from_heatmap(peaks, k=num_top)
    keep = scores[0] > center_thr
    positions = positions[0][keep]
    kernels = kernel_map.flatten(1)[:, positions].t()
    return kernels, scores[0][keep], labels[0][keep].long()


def stuff_candidates(region_logits: Tensor, kernel_map: Tensor,
                     stuff_thr: float) -> Tuple[Tensor, Tensor, Tensor]:
    """Stuff kernel candidates of one level: one per argmax class whose mean score passes.

    Args:
        region_logits: Stuff-region logits, shape (S, H, W).
        kernel_map: Kernel map of the level, shape (C_k, H, W).
        stuff_thr: A class needs a mean score (over its argmax positions) strictly above it.

    Returns:
        Kernels (m, C_k) (mean over all H*W positions of ``onehot_c * kernel_map``), scores (m,),
        labels (m,) int64 (stuff-branch channel), in ascending label order.
    """
    num_channels, height, width = region_logits.shape
    probs = region_logits.sigmoid()
    argmax = probs.argmax(dim=0)
    labels, counts = torch.unique(argmax, return_counts=True)
    onehot = F.one_hot(argmax, num_channels).permute(2, 0, 1).to(probs.dtype)
    scores = (probs * onehot).flatten(1).sum(dim=1)[labels] / counts
    keep = scores > stuff_thr
    labels, scores = labels[keep], scores[keep]
    kernels = onehot[labels].flatten(1) @ kernel_map.flatten(1).t() / (height * width)
    return kernels, scores, labels


def fuse_thing_kernels(kernels: Tensor, labels: Tensor, similar_thr: float,
                       class_specific: bool = True) -> Tuple[Tensor, Tensor]:
    """Fuse thing kernels that are cosine-similar (the official "first similar row absorbs" rule).

    With the candidates in descending score order, ``L[i, j] = i <= j and cos(k_i, k_j) >=
    similar_thr`` (and same label when ``class_specific``). Candidate j is kept iff no earlier
    i < j has ``L[i, j]``; a kept i absorbs every j whose *first* linked row is i, and its fused
    kernel is the mean of the absorbed kernels. A candidate whose first linked row is itself
    absorbed disappears. The diagonal always counts as linked (the official code relies on
    ``cos(k, k) = 1``, which fails only for an all-zero kernel).

    Args:
        kernels: Embedded kernels in descending score order, shape (N, C_f).
        labels: Their classes, shape (N,).
        similar_thr: ``SIMILAR_THRES`` on the cosine similarity (norms clamped at 1e-8).
        class_specific: Only kernels of the same class are fused.

    Returns:
        Fused kernels (M, C_f) and the indices (M,) of the kept candidates (ascending), whose
        score and label the fused kernels take.
    """
    num = kernels.shape[0]
    if num == 0:
        return kernels, labels.new_zeros(0)
    unit = kernels / kernels.norm(dim=1, keepdim=True).clamp(min=1e-8)
    upper = torch.ones(num, num, dtype=torch.bool, device=kernels.device).triu()
    linked = upper & (unit @ unit.t() >= similar_thr)
    if class_specific:
        linked &= labels[:, None] == labels[None, :]
    linked.fill_diagonal_(True)
    first_row = linked.int().argmax(dim=0)  # first True of every column
    keep = torch.nonzero(first_row == torch.arange(num, device=kernels.device)).flatten()
    absorbed = (first_row[None, :] == keep[:, None]).to(kernels.dtype)
    fused = absorbed @ kernels / absorbed.sum(dim=1, keepdim=True)
    return fused, keep


def fuse_stuff_kernels(kernels: Tensor, scores: Tensor,
                       labels: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """Average the stuff kernels and scores of every class over the levels.

    Args:
        kernels: Embedded stuff kernels of all levels, shape (N, C_f).
        scores: Their scores, shape (N,).
        labels: Their stuff-branch channels, shape (N,).

    Returns:
        Kernels (U, C_f), scores (U,) and labels (U,) of the U distinct classes, ascending.
    """
    classes, inverse = torch.unique(labels, return_inverse=True)
    member = (inverse[None, :] == torch.arange(len(classes), device=labels.device)[:, None])
    member = member.to(kernels.dtype)
    count = member.sum(dim=1, keepdim=True)
    return member @ kernels / count, (member @ scores[:, None] / count)[:, 0], classes


def maskness_scores(probs: Tensor, scores: Tensor, mask_thr: float) -> Tensor:
    """Rescore things by the mean probability inside their mask (``p > mask_thr``).

    Args:
        probs: Mask probabilities, shape (N, h, w).
        scores: Centre scores, shape (N,).
        mask_thr: ``INST_THRES``.

    Returns:
        ``scores * sum(p * m) / (sum(m) + 1e-6)``, shape (N,).
    """
    masks = (probs > mask_thr).to(probs.dtype)
    maskness = (probs * masks).flatten(1).sum(dim=1) / (masks.flatten(1).sum(dim=1) + 1e-6)
    return scores * maskness


def _mask_probs(kernels: Tensor, encode_feat: Tensor) -> Tensor:
    """sigmoid(kernels . encode_feat): (N, C_f) x (C_f, h, w) -> (N, h, w)."""
    return (kernels @ encode_feat.flatten(1)).sigmoid().view(-1, *encode_feat.shape[-2:])


def _embed(embed: Embed, kernels: Tensor, encode_feat: Tensor) -> Tensor:
    """``embed(kernels)`` (N, C_k) -> (N, C_f); the embedding is not called on N = 0."""
    if kernels.shape[0] == 0:
        return encode_feat.new_zeros((0, encode_feat.shape[0]))
    return embed(kernels)


def predict_things(center_logits: Sequence[Tensor], kernel_maps: Sequence[Tensor],
                   encode_feat: Tensor, thing_embed: Embed, test_cfg) -> Dict[str, Tensor]:
    """Thing masks of one image: candidates of all levels, fusion, maskness, gate, top_num.

    Args and shapes as :func:`predict_kernels_single`.

    Returns:
        ``thing_probs`` (N_t, h4, w4), ``thing_scores`` (N_t,), ``thing_labels`` (N_t,).
    """
    pool_sizes = tuple(cfg_value(test_cfg, 'pool_sizes', DEFAULT_POOL_SIZES))
    top_num = int(cfg_value(test_cfg, 'top_num'))
    center_thr = cfg_value(test_cfg, 'center_thr')
    candidates = [thing_candidates(center, kernels, pool, top_num, center_thr)
                  for center, kernels, pool in zip(center_logits, kernel_maps, pool_sizes)]
    kernels, scores, labels = (torch.cat(parts) for parts in zip(*candidates))
    order = torch.sort(scores, descending=True, stable=True).indices
    kernels, scores, labels = kernels[order], scores[order], labels[order]
    kernels, keep = fuse_thing_kernels(_embed(thing_embed, kernels, encode_feat), labels,
                                       cfg_value(test_cfg, 'similar_thr'),
                                       cfg_value(test_cfg, 'class_specific', True))
    probs = _mask_probs(kernels, encode_feat)
    scores = maskness_scores(probs, scores[keep], cfg_value(test_cfg, 'mask_thr'))
    order = torch.sort(scores, descending=True, stable=True).indices
    order = order[scores[order] >= cfg_value(test_cfg, 'score_gate', DEFAULT_SCORE_GATE)][:top_num]
    return dict(thing_probs=probs[order], thing_scores=scores[order],
                thing_labels=labels[keep][order])


def predict_stuff(region_logits: Sequence[Tensor], kernel_maps: Sequence[Tensor],
                  encode_feat: Tensor, stuff_embed: Embed, test_cfg) -> Dict[str, Tensor]:
    """Stuff masks of one image: candidates of all levels, averaged per class.

    Args and shapes as :func:`predict_kernels_single`.

    Returns:
        ``stuff_probs`` (N_s, h4, w4), ``stuff_scores`` (N_s,), ``stuff_labels`` (N_s,), ascending.
    """
    stuff_thr = cfg_value(test_cfg, 'stuff_thr')
    candidates = [stuff_candidates(region, kernels, stuff_thr)
                  for region, kernels in zip(region_logits, kernel_maps)]
    kernels, scores, labels = (torch.cat(parts) for parts in zip(*candidates))
    kernels, scores, labels = fuse_stuff_kernels(_embed(stuff_embed, kernels, encode_feat),
                                                 scores, labels)
    return dict(stuff_probs=_mask_probs(kernels, encode_feat), stuff_scores=scores,
                stuff_labels=labels)


@torch.no_grad()
def predict_kernels_single(center_logits: Sequence[Tensor], region_logits: Sequence[Tensor],
                           kernel_maps: Sequence[Tensor], encode_feat: Tensor, thing_embed: Embed,
                           stuff_embed: Embed, test_cfg) -> Dict[str, Tensor]:
    """Fused thing and stuff masks of one image at stride 4.

    Args:
        center_logits: Per level l (P3..P7) the centre logits, each (N_th, H_l, W_l).
        region_logits: Per level the stuff-region logits, each (S, H_l, W_l).
        kernel_maps: Per level the kernel map, each (C_k, H_l, W_l).
        encode_feat: Encoded features, shape (C_f, h4, w4).
        thing_embed: Thing kernel embedding, (N, C_k) -> (N, C_f).
        stuff_embed: Stuff kernel embedding, (N, C_k) -> (N, C_f).
        test_cfg: Inference settings (keys in the module docstring).

    Returns:
        ``thing_probs`` (N_t, h4, w4), ``thing_scores`` (N_t,) descending (maskness-rescored,
        ``>= score_gate``, at most ``top_num``), ``thing_labels`` (N_t,) in 0..N_th-1;
        ``stuff_probs`` (N_s, h4, w4), ``stuff_scores`` (N_s,), ``stuff_labels`` (N_s,)
        (stuff-branch channels, ascending). Empty (0 rows) where nothing survives.
    """
    num_pools = len(cfg_value(test_cfg, 'pool_sizes', DEFAULT_POOL_SIZES))
    if not len(center_logits) == len(region_logits) == len(kernel_maps) == num_pools:
        raise ValueError(
            f'Panoptic FCN inference got {len(center_logits)} centre, {len(region_logits)} region '
            f'and {len(kernel_maps)} kernel levels for {num_pools} test_cfg.pool_sizes')
    return {**predict_things(center_logits, kernel_maps, encode_feat, thing_embed, test_cfg),
            **predict_stuff(region_logits, kernel_maps, encode_feat, stuff_embed, test_cfg)}
