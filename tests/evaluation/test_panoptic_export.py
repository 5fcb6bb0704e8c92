"""Writing COCO-panoptic predictions: PNG ids, names, areas, errors."""
import numpy as np
import pytest

from mmibs.evaluation import PanopticEvalError, Segments
from mmibs.evaluation.panoptic_export import (
    PanopticPredictionWriter,
    png_id_map,
    prediction_png_name,
)
from mmibs.evaluation.panoptic_png import read_panoptic_png


def test_png_ids_keep_values_void_is_zero_and_value_zero_moves():
    # value 0 = stuff label 0 (a dataset without things), 3 = void label, 1002 = a thing
    pan = np.array([[0, 0, 3, 1002], [1002, 0, 3, 3]])
    segments = Segments.from_lists([0, 1002], [0, 2])
    ids, png_ids = png_id_map(pan, segments, np.array([3]))
    assert png_ids.tolist() == [1003, 1002]
    assert ids.tolist() == [[1003, 1003, 0, 1002], [1002, 1003, 0, 0]]


def test_written_png_and_areas(tmp_path):
    writer = PanopticPredictionWriter(str(tmp_path / 'r'))
    ids = np.array([[5, 5, 0], [70000, 5, 0]])
    ann = writer.write_image('a', 'a.png', ids, {5: 1, 70000: 0})
    assert ann == dict(image_id='a', file_name='a.png', segments_info=[
        dict(id=5, category_id=1, area=3, iscrowd=0),
        dict(id=70000, category_id=0, area=1, iscrowd=0)])
    np.testing.assert_array_equal(read_panoptic_png(str(tmp_path / 'r.panoptic.partial/a.png')),
                                  ids)
    with pytest.raises(PanopticEvalError, match='does not fit in an RGB PNG'):
        writer.write_image('b', 'b.png', np.array([[1 << 24]]), {1 << 24: 0})


def test_finalize_refuses_duplicate_names_and_missing_pngs(tmp_path):
    writer = PanopticPredictionWriter(str(tmp_path / 'r'))
    ann = writer.write_image(1, 'x.png', np.array([[1]]), {1: 0})
    categories = [dict(id=7, name='c', isthing=1)]
    with pytest.raises(PanopticEvalError, match='share a prediction PNG name'):
        writer.finalize([ann, dict(ann, image_id=2)], {0: 7}, categories)
    with pytest.raises(PanopticEvalError, match=r"\['y\.png'\] are missing"):
        writer.finalize([ann, dict(ann, image_id=2, file_name='y.png')], {0: 7}, categories)
    assert not (tmp_path / 'r.panoptic.json').exists()


def test_prediction_png_name():
    assert prediction_png_name('data/x/frankfurt_000000_000294_leftImg8bit.png', 3) == \
        'frankfurt_000000_000294_leftImg8bit.png'
    assert prediction_png_name('a/b.jpg', 3) == 'b.png'
    assert prediction_png_name(None, 'city_0001') == 'city_0001.png'
    with pytest.raises(PanopticEvalError, match='neither img_path nor img_id'):
        prediction_png_name(None, None)
