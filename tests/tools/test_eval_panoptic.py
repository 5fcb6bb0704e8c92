"""tools/analysis_tools/eval_panoptic.py: panopticapi-equal PQ, JSON output, clear errors."""
import contextlib
import io
import json
import re
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


def relabelled_copy(pred_json: str, out_json: Path, category_of: dict) -> str:
    """A copy of a COCO panoptic JSON whose segments' category ids go through ``category_of``
    (the PNGs stay those of ``pred_json``'s folder)."""
    data = json.loads(open(pred_json).read())
    for ann in data['annotations']:
        for seg in ann['segments_info']:
            seg['category_id'] = category_of[seg['category_id']]
    out_json.write_text(json.dumps(data))
    return str(out_json)


def test_ground_truth_scores_without_warnings(cli, folders, capsys):
    gt_json, _ = folders
    results = cli.main([gt_json, gt_json])
    assert results['All']['pq'] == 1.0 and results['warnings'] == []
    assert 'WARNING' not in capsys.readouterr().err


def test_json_order_category_ids_warn_that_they_look_permuted(cli, folders, capsys):
    """mmdet's format_only export numbers the (things-first) labels in JSON order; with a
    stuff-first JSON every class gets another one's id: a loud warning, not a silent PQ."""
    gt_json, _ = folders
    cats = json.loads(open(gt_json).read())['categories']
    isthing = {c['id']: c['isthing'] for c in cats}
    things_first = sorted((c['id'] for c in cats), key=lambda i: not isthing[i])
    json_order = [c['id'] for c in cats]
    exported = relabelled_copy(gt_json, Path(gt_json).with_name('exported.json'),
                               dict(zip(things_first, json_order)))
    results = cli.main([gt_json, exported, '--pred-folder', gt_json[:-5]])
    err = capsys.readouterr().err
    assert any('look permuted' in w for w in results['warnings']), results['warnings']
    assert 'GT thing pixels are predicted as stuff' in err and '--out-dir' in err
    assert re.search(r"GT 'class\d' \(id \d+\) -> predicted 'class\d' \(id \d+\) \(100 %\)", err)


def test_no_matched_segment_warns(cli, folders, capsys):
    gt_json, _ = folders
    cats = [c['id'] for c in json.loads(open(gt_json).read())['categories']]
    shifted = relabelled_copy(gt_json, Path(gt_json).with_name('shifted.json'),
                              dict(zip(cats, cats[1:] + cats[:1])))
    results = cli.main([gt_json, shifted, '--pred-folder', gt_json[:-5]])
    assert results['All']['pq'] == 0.0
    assert any(w.startswith('no predicted segment matches') for w in results['warnings'])
    assert 'eval_panoptic: WARNING: no predicted segment' in capsys.readouterr().err


def test_one_class_everywhere_is_not_called_a_permutation(cli, folders):
    """A collapsed model (every segment one stuff class) maps many GT classes to one: not the
    one-to-one relabelling the permutation warning is about."""
    gt_json, _ = folders
    cats = json.loads(open(gt_json).read())['categories']
    stuff = next(c['id'] for c in cats if not c['isthing'])
    collapsed = relabelled_copy(gt_json, Path(gt_json).with_name('collapsed.json'),
                                {c['id']: stuff for c in cats})
    with contextlib.redirect_stdout(io.StringIO()):
        results = cli.main([gt_json, collapsed, '--pred-folder', gt_json[:-5]])
    assert not any('permuted' in w for w in results['warnings'])
