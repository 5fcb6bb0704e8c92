"""The README's "Adding a dataset" snippets, as written: the dataset class and the child config
load, and the class counts of the config agree with the dataset (check_class_split)."""
import re
import sys
from pathlib import Path

from mmengine.config import Config

from mmibs.engine import check_class_split

REPO_ROOT = Path(__file__).resolve().parents[1]


def readme_snippets():
    text = (REPO_ROOT / 'README.md').read_text()
    section = text[text.index('## Adding a dataset'):text.index('## Layout')]
    return re.findall(r'```python\n(.*?)```', section, flags=re.S)


def test_readme_dataset_and_child_config_work_as_written(tmp_path, monkeypatch):
    dataset_code, config_code = readme_snippets()
    (tmp_path / 'my_datasets.py').write_text(dataset_code)
    # The child config refers to its base relatively, from configs/my/.
    child = tmp_path / 'configs' / 'my' / 'mask2former_r18-w32_1xb4-256x512-600it_my-dataset.py'
    child.parent.mkdir(parents=True)
    (tmp_path / 'configs' / 'mask2former').symlink_to(REPO_ROOT / 'configs' / 'mask2former')
    (tmp_path / 'configs' / '_base_').symlink_to(REPO_ROOT / 'configs' / '_base_')
    child.write_text(config_code)
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
