"""tools/analysis_tools/eval_panoptic.py: panopticapi-equal PQ, JSON output, clear errors."""
import contextlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from panoptic_cases import random_case, write_coco_panoptic
from panopticapi.evaluation import pq_compute
from PIL import Image

from mmibs.evaluation import PanopticEvalError


@pytest.fixture(scope='module')
def cli(tool):
    return tool('analysis_tools/eval_panoptic')


@pytest.fixture(scope='module')
def folders(tmp_path_factory):
    rng = np.random.default_rng(7)
    cases = [random_case(rng, 64, 96, 3, 4, 25) for _ in range(5)]
    return write_coco_panoptic(str(tmp_path_factory.mktemp('cli') / 'set'), cases, 3, 4)


def test_cli_equals_pq_compute_and_writes_json(cli, folders, tmp_path):
    gt_json, pred_json = folders
    out = tmp_path / 'sub' / 'results.json'
    with contextlib.redirect_stdout(io.StringIO()):
        expected = pq_compute(gt_json, pred_json)
        returned = cli.main([gt_json, pred_json, '--out', str(out), '--thresholds', '25', '50'])
    written = json.loads(out.read_text())
    assert written == json.loads(json.dumps(returned))
    for group in ('All', 'Things', 'Stuff'):
        assert written[group]['n'] == expected[group]['n']
        for key in ('pq', 'sq', 'rq'):
            assert written[group][key] == pytest.approx(expected[group][key], abs=1e-9)
    for cat_id, values in expected['per_class'].items():
        assert written['per_class'][str(cat_id)]['pq'] == pytest.approx(values['pq'], abs=1e-9)
    assert 0 < written['acc_th'] < 1 and 0 < written['prec_th'] < 1
    assert set(written['confusion']) == {'25', '50'}
    assert written['confusion']['25'] >= written['confusion']['50']
    assert [p.name for p in out.parent.iterdir()] == ['results.json']  # no temp file left


def test_cli_two_processes_give_the_same_json(cli, folders):
    with contextlib.redirect_stdout(io.StringIO()):
        one = cli.main(list(folders))
        two = cli.main(list(folders) + ['--nproc', '2'])
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)


def test_pillow_written_pngs_give_the_same_json(cli, folders, tmp_path):
    """panopticapi and cityscapesscripts write PNGs with Pillow (adaptive row filters), mmcv and
    ``write_coco_panoptic`` with OpenCV (Sub filter): both decode to the same scores."""
    copies = []
    for json_path in folders:
        folder = tmp_path / Path(json_path).stem
        shutil.copytree(json_path[:-5], folder)
        for png in folder.glob('*.png'):
            before = png.read_bytes()
            Image.open(png).save(png)
            assert png.read_bytes() != before
        shutil.copy(json_path, f'{folder}.json')
        copies.append(f'{folder}.json')
    with contextlib.redirect_stdout(io.StringIO()):
        opencv = cli.main(list(folders))
        pillow = cli.main(copies)
    assert json.dumps(opencv, sort_keys=True) == json.dumps(pillow, sort_keys=True)


def test_unlisted_prediction_id_names_the_image(cli, folders, tmp_path):
    gt_json, pred_json = folders
    pred = json.loads(open(pred_json).read())
    pred['annotations'][2]['segments_info'].pop()
    bad_json = tmp_path / 'bad.json'
    bad_json.write_text(json.dumps(pred))
    with pytest.raises(PanopticEvalError, match=r'image id 2 .*img_2\.png.*not in the pred'):
        cli.main([gt_json, str(bad_json), '--pred-folder', pred_json[:-5]])


def test_unknown_category_names_the_file(cli, folders, tmp_path):
    gt_json, pred_json = folders
    pred = json.loads(open(pred_json).read())
    pred['annotations'][1]['segments_info'][0]['category_id'] = 9999
    bad_json = tmp_path / 'bad.json'
    bad_json.write_text(json.dumps(pred))
    with pytest.raises(PanopticEvalError, match=r'bad\.json: image 1, segment .* 9999'):
        cli.main([gt_json, str(bad_json), '--pred-folder', pred_json[:-5]])
