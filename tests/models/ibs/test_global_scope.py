"""scope='global': 2 gloo processes x 2 crops give the IBS loss and the parameter gradients
(after DDP's averaging) of one process holding the 4 crops, with pairing='all'
(tests/helpers/global_ibs_case.py runs both)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

CASE = Path(__file__).resolve().parents[2] / 'helpers' / 'global_ibs_case.py'


@pytest.mark.parametrize('rows_per_crop,rows_per_mask', [
    ((3, 2, 1, 0), 1),   # unequal thing counts: 5 rows on rank 0, 1 on rank 1
    ((2, 1, 0, 0), 1),   # rank 1 has no things at all
    ((4, 2, 0, 2), 2),   # masks of 2 rows with per-row weights (Panoptic FCN)
])
def test_two_gloo_processes_equal_one_process(rows_per_crop, rows_per_mask, tmp_path):
    out = tmp_path / 'result.pt'
    subprocess.run([sys.executable, str(CASE), '--rows-per-crop', *map(str, rows_per_crop),
                    '--rows-per-mask', str(rows_per_mask), '--out', str(out)], check=True,
                   timeout=300, env=dict(os.environ, OMP_NUM_THREADS='1'))
    results = torch.load(out)
    expected_loss, expected_grads = results['single']
    assert expected_loss > 0
    for rank in (0, 1):
        loss, grads = results[rank]
        assert loss == pytest.approx(expected_loss, rel=1e-12)
        assert set(grads) == set(expected_grads)
        for name, grad in grads.items():
            torch.testing.assert_close(grad, expected_grads[name], rtol=1e-10, atol=1e-12,
                                       msg=name)
