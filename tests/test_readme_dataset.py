"""The README's "Adding a dataset" snippets, as written: the dataset class and the child config
load, the class counts of the config agree with the dataset (check_class_split), and the child
config trains and validates through tools/train.py on data in its layout."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
from mmengine.config import Config

from mmibs.engine import check_class_split
from mmibs.evaluation.panoptic_png import id_to_rgb, rgb_to_id

REPO_ROOT = Path(__file__).resolve().parents[1]


def readme_snippets():
    text = (REPO_ROOT / 'README.md').read_text()
    section = text[text.index('## Adding a dataset'):text.index('## Layout')]
    return re.findall(r'```python\n(.*?)```', section, flags=re.S)


def write_snippets(root: Path) -> Path:
    """Write the dataset snippet as ``root/my_datasets.py`` and the child config under
    ``root/configs/my/`` (it refers to its base relatively, so the repository's config folders
    are linked beside it); return the child config's path."""
    dataset_code, config_code = readme_snippets()
    (root / 'my_datasets.py').write_text(dataset_code)
    child = root / 'configs' / 'my' / 'mask2former_r18-w32_1xb4-256x512-600it_my-dataset.py'
    child.parent.mkdir(parents=True)
    for folder in ('mask2former', '_base_'):
        (root / 'configs' / folder).symlink_to(REPO_ROOT / 'configs' / folder)
    child.write_text(config_code)
    return child


def test_readme_dataset_and_child_config_work_as_written(tmp_path, monkeypatch):
    child = write_snippets(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        cfg = Config.fromfile(str(child))
        check_class_split(cfg)
        head = cfg.model.panoptic_head
        assert (head.num_things_classes, head.num_stuff_classes) == (2, 2)
        assert len(head.loss_cls.class_weight) == 5
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            assert cfg[key].dataset.type == 'MyPanopticDataset'
            assert cfg[key].dataset.data_root == 'data/my/'
        assert cfg.val_evaluator.seg_prefix == 'data/my/annotations/panoptic_val/'
        assert cfg.train_dataloader.dataset.ann_file == 'annotations/panoptic_train.json'
    finally:
        sys.modules.pop('my_datasets', None)


def subset_dataset(src: Path, dst: Path, keep: Sequence[str]) -> None:
    """A copy of a COCO panoptic dataset with only the categories named ``keep`` (the other
    segments become void, in the JSON and in the PNGs)."""
    shutil.copytree(src / 'images', dst / 'images')
    for split in ('train', 'val'):
        data = json.loads((src / 'annotations' / f'panoptic_{split}.json').read_text())
        kept = {c['id'] for c in data['categories'] if c['name'] in keep}
        data['categories'] = [c for c in data['categories'] if c['id'] in kept]
        (dst / 'annotations' / f'panoptic_{split}').mkdir(parents=True)
        for ann in data['annotations']:
            png = cv2.imread(str(src / 'annotations' / f'panoptic_{split}' / ann['file_name']))
            ids = rgb_to_id(png)
            dropped = [s['id'] for s in ann['segments_info'] if s['category_id'] not in kept]
            ids[np.isin(ids, dropped)] = 0
            cv2.imwrite(str(dst / 'annotations' / f'panoptic_{split}' / ann['file_name']),
                        id_to_rgb(ids)[..., ::-1])
            ann['segments_info'] = [s for s in ann['segments_info'] if s['category_id'] in kept]
        (dst / 'annotations' / f'panoptic_{split}.json').write_text(json.dumps(data))


def test_readme_child_config_trains_and_validates(synthetic_root, tmp_path):
    """The README's child config, as written, trained by tools/train.py on a 4-class dataset in
    its layout under data/my/ (the tiny synthetic streets, other classes made void)."""
    child = write_snippets(tmp_path)
    subset_dataset(synthetic_root, tmp_path / 'data' / 'my', ('car', 'person', 'road', 'sky'))
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / 'tools' / 'train.py'), str(child), '--work-dir', 'run',
         '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
         'train_dataloader.batch_size=2'],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
        env=dict(os.environ, OMP_NUM_THREADS='2', PYTHONWARNINGS='ignore',
                 PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get('PYTHONPATH', '')])))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert re.search(r'Iter\(val\) \[2/2\].*coco_panoptic/PQ: ', output), output[-3000:]
    assert (tmp_path / 'run' / 'iter_2.pth').is_file()
