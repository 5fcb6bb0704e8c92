"""ClassPairedBatchSampler: pairing, class rules and order, determinism, ranks, epochs, start
batch, errors."""
from collections import Counter

import numpy as np
import pytest
from mmengine.dataset import InfiniteSampler
from mmengine.runner import Runner

from mmibs.datasets import (
    ClassPairedBatchSampler,
    PairedSample,
    SegmentIndex,
    SegmentIndexError,
    SyntheticStreetsPanopticDataset,
)
from mmibs.datasets.class_paired import sampler as cpbs

NUM_THINGS = 3


@pytest.fixture(scope='module')
def dataset(synthetic_root):
    return SyntheticStreetsPanopticDataset(
        data_root=str(synthetic_root), ann_file='annotations/panoptic_train.json',
        data_prefix=dict(img='images/train/', seg='annotations/panoptic_train/'), pipeline=[])


def make(dataset, batch_size=4, seed=0, **kwargs):
    kwargs.setdefault('skip_empty_classes', True)  # the 4-image set may lack a class
    return ClassPairedBatchSampler(InfiniteSampler(dataset, seed=seed), batch_size, **kwargs)


def check_pairs(batch, dataset, index):
    """Partners adjacent; same class; segment of that class in its image; shared scale."""
    assert all(isinstance(s, PairedSample) for s in batch)
    for position, sample in enumerate(batch):
        partner = batch[sample.partner]
        assert sample.partner == position ^ 1 and partner.partner == position
        assert partner.label == sample.label and partner.scale == sample.scale
        assert partner.pair == sample.pair == position // 2
        segs = {s['id']: s for s in dataset.get_data_info(sample.index)['segments_info']}
        assert segs[sample.segment_id]['category'] == sample.label
        if sample.label < NUM_THINGS:
            assert sample.scale in (32.0, 64.0, 128.0, 256.0, 512.0)
        else:
            assert sample.scale is None


def take(sampler, n):
    it = iter(sampler)
    return [next(it) for _ in range(n)]


def test_pairs_share_class_and_are_adjacent(dataset):
    sampler = make(dataset, batch_size=6)
    index = dataset.get_segment_index()
    batches = take(sampler, 100)
    for batch in batches:
        assert len(batch) == 6
        check_pairs(batch, dataset, index)
    labels = Counter(b[2 * k].label for b in batches for k in range(3))
    present = [c for c in range(8) if index.num_images(c)]
    assert set(labels) == set(present)  # uniform over all classes, stuff included
    assert min(labels.values()) > 300 / len(present) * 0.5


def test_deterministic_per_seed_and_independent_of_history(dataset):
    a, b, c = make(dataset, seed=3), make(dataset, seed=3), make(dataset, seed=4)
    assert take(a, 20) == take(b, 20)
    assert take(a, 20) != take(c, 20)
    # any batch can be produced on its own: that is what resuming uses
    reference = take(make(dataset, seed=3), 12)
    sampler = make(dataset, seed=3)
    sampler.set_start_batch(7)
    assert take(sampler, 5) == reference[7:]
    assert take(sampler, 2) == reference[:2]  # the start applies to one iter() only
    assert sampler.draw_batch(0, 9) == reference[9]


def test_set_epoch_changes_the_draws(dataset):
    sampler = make(dataset)
    first = take(sampler, 5)
    sampler.sampler.set_epoch(1)  # what mmengine's DistSamplerSeedHook calls
    assert sampler.epoch == 1
    second = take(sampler, 5)
    assert first != second and all(s.epoch == 1 for b in second for s in b)


def test_two_simulated_ranks_draw_their_own_adjacent_pairs(dataset, monkeypatch):
    per_rank = {}
    for rank in (0, 1):
        monkeypatch.setattr(cpbs, 'get_dist_info', lambda rank=rank: (rank, 2))
        sampler = make(dataset, seed=11)
        assert (sampler.rank, sampler.world_size) == (rank, 2)
        per_rank[rank] = take(sampler, 30)
        for batch in per_rank[rank]:
            check_pairs(batch, dataset, dataset.get_segment_index())
    assert per_rank[0] != per_rank[1]
    # one epoch of a finite sampler: len(dataset) // (batch_size * world_size) batches
    sampler = make(dataset, seed=11, infinite=False)
    assert len(sampler) == max(1, len(dataset) // 8)
    assert len(list(sampler)) == len(sampler)


def global_labels(dataset, monkeypatch, world_size, batch_size, steps, **kwargs) -> list:
    """Pair classes of all simulated ranks in the authors' global order (step, pair, rank)."""
    per_rank = []
    for rank in range(world_size):
        monkeypatch.setattr(cpbs, 'get_dist_info', lambda rank=rank: (rank, world_size))
        per_rank.append(take(make(dataset, seed=21, batch_size=batch_size, **kwargs), steps))
    pairs = batch_size // 2
    return [per_rank[r][step][2 * k].label
            for step in range(steps) for k in range(pairs) for r in range(world_size)]


def test_permutation_order_spreads_each_class_permutation_over_ranks(dataset, monkeypatch):
    """class_order='permutation': the pairs of all ranks, in the authors' order (each rank takes
    every W-th item of one stream), are consecutive shuffled permutations of the classes."""
    labels = global_labels(dataset, monkeypatch, world_size=3, batch_size=4, steps=40)
    classes = sorted(make(dataset).classes.tolist())
    num = len(classes)
    blocks = [labels[i:i + num] for i in range(0, len(labels) - num + 1, num)]
    assert len(blocks) >= 20
    assert all(sorted(block) == classes for block in blocks)
    assert len({tuple(block) for block in blocks}) > 10  # shuffled anew each time
    # Independent draws repeat classes within a permutation-sized window.
    independent = global_labels(dataset, monkeypatch, world_size=3, batch_size=4, steps=40,
                                class_order='independent')
    assert any(sorted(independent[i:i + num]) != classes
               for i in range(0, len(independent) - num + 1, num))


def test_things_only_frequency_and_avoid_same_image(dataset):
    index = dataset.get_segment_index()
    labels = {s.label for b in take(make(dataset, class_sampling='things'), 50) for s in b}
    assert labels and labels <= set(range(NUM_THINGS))
    freq = make(dataset, class_sampling='frequency', class_order='independent')
    segs = np.array([index.num_segments(c) for c in freq.classes], dtype=float)
    np.testing.assert_allclose(freq.class_weights, segs / segs.sum())
    for batch in take(make(dataset, avoid_same_image=True), 50):
        for k in range(0, 4, 2):
            assert batch[k].index != batch[k + 1].index


def test_errors_at_build_time(dataset):
    with pytest.raises(ValueError, match='even'):
        make(dataset, batch_size=3)
    with pytest.raises(ValueError, match='class_sampling'):
        make(dataset, class_sampling='rare')
    with pytest.raises(ValueError, match='class_order'):
        make(dataset, class_order='sorted')
    with pytest.raises(ValueError, match="'frequency'.*class_order='independent'"):
        make(dataset, class_sampling='frequency')

    class FakeDataset:
        def __init__(self, index):
            self.index = index

        def get_segment_index(self):
            return self.index

        def __len__(self):
            return 2

    seg = lambda i, c: dict(id=i, category_id=c, bbox=[0, 0, 4, 2], area=8, iscrowd=0)  # noqa
    raw = dict(images=[dict(id=1, file_name='a.png'), dict(id=2, file_name='b.png')],
               annotations=[dict(image_id=1, segments_info=[seg(1, 10), seg(2, 20)]),
                            dict(image_id=2, segments_info=[seg(3, 10)])],
               categories=[dict(id=10, name='a', isthing=1), dict(id=20, name='b', isthing=1),
                           dict(id=30, name='c', isthing=0)])
    fake = FakeDataset(SegmentIndex.from_coco_panoptic(raw))

    class FakeSampler:
        dataset = fake
        seed = 0

    with pytest.raises(SegmentIndexError, match=r"2 \('c': 0 images\).*skip_empty_classes"):
        ClassPairedBatchSampler(FakeSampler(), 2)
    sampler = ClassPairedBatchSampler(FakeSampler(), 2, skip_empty_classes=True)
    assert sampler.classes.tolist() == [0, 1]
    with pytest.raises(SegmentIndexError, match=r"avoid_same_image=True.*1 \('b': 1 images\)"):
        ClassPairedBatchSampler(FakeSampler(), 2, avoid_same_image=True)
    sampler = ClassPairedBatchSampler(FakeSampler(), 2, avoid_same_image=True,
                                      skip_empty_classes=True)
    assert sampler.classes.tolist() == [0]
    empty = FakeDataset(SegmentIndex.from_coco_panoptic(dict(raw, annotations=[])))

    class EmptySampler:
        dataset = empty
        seed = 0

    with pytest.raises(SegmentIndexError, match='no class to sample'):
        ClassPairedBatchSampler(EmptySampler(), 2, skip_empty_classes=True)


def test_built_by_mmengine_runner(dataset, synthetic_root):
    """``batch_sampler=dict(type=...)`` in a dataloader config, as the configs use it."""
    loader = Runner.build_dataloader(
        dict(batch_size=4, num_workers=0,
             sampler=dict(type='InfiniteSampler', shuffle=True),
             batch_sampler=dict(type='ClassPairedBatchSampler', skip_empty_classes=True),
             dataset=dict(type='SyntheticStreetsPanopticDataset', data_root=str(synthetic_root),
                          ann_file='annotations/panoptic_train.json',
                          data_prefix=dict(img='images/train/',
                                           seg='annotations/panoptic_train/'),
                          pipeline=[dict(type='LoadImageFromFile'),
                                    dict(type='LoadPanopticAnnotationsChecked'),
                                    dict(type='ClassPairedCrop', crop_size=(128, 64),
                                         min_short_side=32, max_short_side=387,
                                         max_long_side=774,
                                         stuff_resize=dict(scale=(256, 128),
                                                           ratio_range=(0.5, 2.0))),
                                    dict(type='PackDetInputs',
                                         meta_keys=('img_path', 'ibs_partner', 'ibs_sample'))])),
        seed=5)
    assert isinstance(loader.batch_sampler, ClassPairedBatchSampler)
    assert loader.batch_sampler.seed == 5
    batch = next(iter(loader))
    metas = [s.metainfo for s in batch['data_samples']]
    assert [m['ibs_partner'] for m in metas] == [1, 0, 3, 2]
    for k in (0, 2):
        assert metas[k]['ibs_sample']['label'] == metas[k + 1]['ibs_sample']['label']
    assert [tuple(x.shape[1:]) for x in batch['inputs']] == [(64, 128)] * 4
