"""The exactness case of scope='global' (tests/models/ibs/test_global_scope.py), run as a
script so that its 2 gloo processes start fresh (spawn) whatever the test process did before::

    python tests/helpers/global_ibs_case.py --rows-per-crop 3 2 1 0 --rows-per-mask 1 --out r.pt

It writes ``{'single': (loss, grads), 0: (mean loss, grads), 1: ...}``: one process holding the
4 crops (``pairing='all'``, local) and each of 2 processes holding 2 crops (``scope='global'``,
DDP-averaged gradients, the mean of the 2 processes' losses).
"""
import argparse
import copy
import os
import socket
import sys
from pathlib import Path

import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from mmibs.models.ibs import IntraBatchSupervision  # noqa: E402

CHANNELS = 6
IMAGE_IDS = ['a', 'b', 'b', 'c']  # crops 1 (rank 0) and 2 (rank 1) share their source image


class RowsAndFeatures(nn.Module):
    """A tiny 'network': thing embeddings from row inputs, per-pixel features from images, and
    (Panoptic FCN-like) a per-row weight."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(4, CHANNELS)
        self.pixel = nn.Conv2d(3, CHANNELS, 1)
        self.score = nn.Linear(4, 1)

    def forward(self, row_inputs, images):
        return self.embed(row_inputs), self.pixel(images), self.score(row_inputs).sigmoid()[:, 0]


def make_case(rows_per_crop):
    gen = torch.Generator().manual_seed(0)
    src = torch.tensor([b for b, n in enumerate(rows_per_crop) for _ in range(n)])
    row_inputs = torch.randn(len(src), 4, generator=gen, dtype=torch.float64)
    images = torch.randn(4, 3, 5, 6, generator=gen, dtype=torch.float64)
    torch.manual_seed(1)
    model = RowsAndFeatures().double()
    return model, row_inputs, src, images


def ibs_loss(model, row_inputs, src, images, metas, scope, rows_per_mask):
    rows, feats, weight = model(row_inputs, images)
    ibs = IntraBatchSupervision(loss=dict(type='IBSLoss', loss_weight=3.0), pairing='all',
                                scope=scope)
    return ibs(rows, src, feats, metas, weight=weight if rows_per_mask > 1 else None,
               rows_per_mask=rows_per_mask)


def single_process(rows_per_crop, rows_per_mask):
    model, row_inputs, src, images = make_case(rows_per_crop)
    loss = ibs_loss(model, row_inputs, src, images, [dict(img_id=i) for i in IMAGE_IDS],
                    'local', rows_per_mask)
    loss.backward()
    return loss.item(), grads_of(model)


def grads_of(model):
    """Gradients of the parameters that have one (no weights: the score layer is unused)."""
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


def _worker(rank, port, rows_per_crop, rows_per_mask, out):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch_dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        model, row_inputs, src, images = make_case(rows_per_crop)
        ddp = DistributedDataParallel(copy.deepcopy(model), find_unused_parameters=True)
        mine = (src // 2) == rank  # crops 2r and 2r + 1 are this rank's
        loss = ibs_loss(ddp, row_inputs[mine], src[mine] - 2 * rank, images[2 * rank:2 * rank + 2],
                        [dict(img_id=i) for i in IMAGE_IDS[2 * rank:2 * rank + 2]], 'global',
                        rows_per_mask)
        loss.backward()
        mean_loss = loss.detach().clone()
        torch_dist.all_reduce(mean_loss)
        torch.save((mean_loss.item() / 2, grads_of(ddp.module)), f'{out}.rank{rank}')
        # DDP's reducer is freed while its process group lives (freed after the group, it
        # can block the process's exit).
        del ddp, loss
    finally:
        torch_dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rows-per-crop', type=int, nargs=4, required=True)
    parser.add_argument('--rows-per-mask', type=int, default=1)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    mp.start_processes(_worker, args=(port, tuple(args.rows_per_crop), args.rows_per_mask,
                                      args.out), nprocs=2, join=True, start_method='spawn')
    results = {rank: torch.load(f'{args.out}.rank{rank}') for rank in (0, 1)}
    results['single'] = single_process(tuple(args.rows_per_crop), args.rows_per_mask)
    torch.save(results, args.out)


if __name__ == '__main__':
    main()
