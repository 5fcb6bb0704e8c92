"""ConfusionVisualizer.add_datasample: what tools/test.py --show-dir --show-confusion draws."""
import cv2
import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import PixelData

from mmibs.evaluation.panoptic_png import id_to_rgb
from mmibs.visualization import ConfusionVisualizer

CLASSES = ('person', 'car', 'road')
META = dict(classes=CLASSES, thing_classes=CLASSES[:2], stuff_classes=CLASSES[2:],
            palette=[(220, 20, 60), (0, 0, 142), (128, 64, 128)])
RED = np.array([255, 0, 0])  # ConfusionVisualizer's default box colour


def sample(tmp_path, merged: bool) -> DetDataSample:
    """Two GT cars side by side on road; the prediction paints them as one car (``merged``,
    confused at any T < 100) or as two."""
    gt = np.full((32, 64), 1, np.int64)  # road, id 1
    gt[8:24, 4:28], gt[8:24, 36:60] = 2, 3  # two cars, ids 2 and 3
    png = tmp_path / 'gt.png'
    cv2.imwrite(str(png), id_to_rgb(gt)[..., ::-1])
    pred = np.full((32, 64), 2, np.int64)  # mmdet values: road = label 2
    pred[8:24, 4:28] = 1 + 1000
    pred[8:24, 36:60] = 1 + (1000 if merged else 2000)
    if merged:
        pred[8:24, 28:36] = 1 + 1000
    data_sample = DetDataSample(metainfo=dict(
        img_path='img.jpg', seg_map_path=str(png), segments_info=[
            dict(id=1, category=2, iscrowd=0), dict(id=2, category=1, iscrowd=0),
            dict(id=3, category=1, iscrowd=0)]))
    data_sample.pred_panoptic_seg = PixelData(sem_seg=torch.from_numpy(pred)[None])
    return data_sample


@pytest.mark.parametrize('merged', [True, False])
def test_gt_and_prediction_with_a_box_on_the_merged_car(tmp_path, merged):
    vis = ConfusionVisualizer(name=f'confusion_vis_{merged}', box_width=1, threshold=50)
    vis.dataset_meta = META
    out = tmp_path / 'out.png'
    image = np.full((32, 64, 3), 90, np.uint8)
    vis.add_datasample('img', image, data_sample=sample(tmp_path, merged), out_file=str(out))
    drawn = cv2.imread(str(out))[..., ::-1]
    assert drawn.shape == (32, 128, 3)  # GT | prediction
    red = np.all(np.abs(drawn.astype(int) - RED) < 60, axis=-1)
    assert (red[:, 64:].sum() > 20) == merged  # the box of the merged car, prediction only
    assert red[:, :64].sum() == 0


def test_missing_ground_truth_names_the_sample(tmp_path):
    vis = ConfusionVisualizer(name='confusion_vis_no_gt')
    vis.dataset_meta = META
    data_sample = sample(tmp_path, True)
    data_sample.set_metainfo(dict(img_path='street.jpg'))
    del data_sample.segments_info
    with pytest.raises(KeyError, match=r"street\.jpg.*'segments_info'"):
        vis.add_datasample('img', np.zeros((32, 64, 3), np.uint8), data_sample=data_sample)
