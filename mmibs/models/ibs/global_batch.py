"""The global batch of IBS (``scope='global'``): crops and thing embeddings of every process.

Every process hands over its supervised thing embeddings (N_r x C, plus their source crops and
optional weights); :func:`gather_rows` concatenates those of all processes, in rank order, with
the gradient of every row flowing back to the process that produced it
(:class:`AllGatherRows`: its backward sums the gradients of all processes and hands each
producer its own part). Only these C-dim rows and a few integers per crop cross the
network, never feature maps. The collectives run on a process group of their own
(:func:`ibs_group`), so their backward cannot interleave with DDP's gradient all-reduce on the
default group in a different order on different processes.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
from mmengine.dist import get_rank, get_world_size, is_distributed
from torch import Tensor

from .pairing import NO_TARGET, BatchCrops, crops_of_batch

#: The IBS process group per (default group, backend): created once, by every process at the
#: same (first) IBS call.
_GROUPS: Dict[Tuple[int, str], dist.ProcessGroup] = {}


class AllGatherRows(torch.autograd.Function):
    """All-gather of equally shaped (padded) tensors, differentiable: the gradient of this
    process's input is the sum over all processes of the gradients of its gathered copy."""

    @staticmethod
    def forward(ctx, tensor: Tensor, group: dist.ProcessGroup) -> Tensor:
        """(n, C) on every process -> (W, n, C), in rank order."""
        ctx.group = group
        chunks = [torch.empty_like(tensor) for _ in range(dist.get_world_size(group))]
        dist.all_gather(chunks, tensor.contiguous(), group=group)
        return torch.stack(chunks)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tuple[Tensor, None]:
        grad = grad.contiguous()
        dist.all_reduce(grad, group=ctx.group)  # only (W, n, C) rows, no feature maps
        return grad[dist.get_rank(ctx.group)], None


def global_scope_active() -> bool:
    """Whether there is more than one process to gather from (else global = local)."""
    return is_distributed() and get_world_size() > 1


def ibs_group() -> dist.ProcessGroup:
    """The process group of the IBS collectives (all processes, the default backend)."""
    backend = str(dist.get_backend())
    key = (id(dist.group.WORLD), backend)
    if key not in _GROUPS:
        _GROUPS[key] = dist.new_group(backend=backend)
    return _GROUPS[key]


def gather_crops(batch_img_metas: Sequence[dict], group: dist.ProcessGroup) -> BatchCrops:
    """:class:`BatchCrops` of the global batch: the crops of all processes in rank order."""
    local = crops_of_batch(batch_img_metas)
    per_rank: List[Optional[Tuple[List[Optional[str]], List[int]]]] = [None] * get_world_size()
    dist.all_gather_object(per_rank, (local.image_keys, local.partners), group=group)
    keys, partners, offset = [], [], 0
    for rank, (rank_keys, rank_partners) in enumerate(per_rank):
        if rank == get_rank():
            local_offset = offset
        keys.extend(rank_keys)
        partners.extend(t + offset if t != NO_TARGET else NO_TARGET for t in rank_partners)
        offset += len(rank_keys)
    return BatchCrops(keys, partners, local_offset, local.num_local)


def _gather_counts(count: int, group: dist.ProcessGroup, device: torch.device) -> List[int]:
    """The first-dimension size of every process's tensor, in rank order."""
    counts = [torch.zeros((), dtype=torch.long, device=device) for _ in range(get_world_size())]
    dist.all_gather(counts, torch.tensor(count, device=device), group=group)
    return [int(n) for n in counts]


def _pad_rows(tensor: Tensor, length: int, value=0) -> Tensor:
    """``tensor`` (n, ...) padded with ``value`` to (length, ...)."""
    pad = tensor.new_full((length - tensor.shape[0], *tensor.shape[1:]), value)
    return torch.cat((tensor, pad))


def _gather_varlen(tensor: Tensor, counts: List[int], group: dist.ProcessGroup) -> Tensor:
    """All processes' ``tensor`` (counts[r], ...), concatenated in rank order (no gradient)."""
    padded = _pad_rows(tensor, max(max(counts), 1))
    chunks = [torch.empty_like(padded) for _ in counts]
    dist.all_gather(chunks, padded, group=group)
    return torch.cat([chunk[:n] for chunk, n in zip(chunks, counts)])


def gather_pairs(local_pairs: Tensor, crops: BatchCrops, group: dist.ProcessGroup,
                 device: torch.device) -> Tensor:
    """The (S, S) pair matrix of the global batch from every process's (B_r, S) rows (each
    process draws the targets of its own source crops with its own generator); the collective
    runs on ``device`` (the features' device: CPU for gloo, CUDA for nccl)."""
    counts = _gather_counts(local_pairs.shape[0], group, device)
    return _gather_varlen(local_pairs.to(device=device, dtype=torch.uint8), counts, group).bool()


def gather_rows(rows: Tensor, src_crop: Tensor, weight: Optional[Tensor], offset: int,
                group: dist.ProcessGroup) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
    """The supervised rows of all processes, differentiable towards their producers.

    Args:
        rows: This process's supervised embeddings, (N_r, C); N_r may differ per process and be
            0.
        src_crop: Their source crops in this process's batch, int64 (N_r,).
        weight: Optional per-row weights (N_r,), gathered with gradient as well.
        offset: Index of this process's first crop in the global batch.
        group: :func:`ibs_group`.

    Returns:
        Rows (sum N_r, C), their global source crops (sum N_r,) and weights (or ``None``), in
        rank order.
    """
    counts = _gather_counts(rows.shape[0], group, rows.device)
    values = [rows] if weight is None else [rows, weight[:, None].to(rows.dtype)]
    local = _pad_rows(torch.cat(values, dim=1), max(max(counts), 1))
    chunks = AllGatherRows.apply(local, group)  # (W, longest, C [+ 1])
    merged = torch.cat([chunk[:n] for chunk, n in zip(chunks, counts)])
    sources = _gather_varlen(src_crop + offset, counts, group)
    # Keeps the gather in this process's graph also without rows, so that every process runs
    # its collective backward.
    anchor = chunks.sum() * 0.0
    columns = rows.shape[1]
    all_rows = merged[:, :columns] + anchor
    all_weight = None if weight is None else merged[:, columns].to(weight.dtype)
    return all_rows, sources, all_weight
