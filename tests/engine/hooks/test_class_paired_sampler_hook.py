"""ClassPairedSamplerHook: the mmengine private API it relies on, and the free fast-forward.

Resuming end to end (same pairs as an uninterrupted run, no skipped batch loaded) is tested in
tests/datasets/class_paired/test_training.py.
"""
import inspect

import pytest
from mmengine.runner import IterBasedTrainLoop
from mmengine.runner import loops as mmengine_loops
from torch.utils.data import DataLoader, Sampler

from mmibs.engine.hooks import class_paired_sampler_hook as hook_module


class EpochSampler(Sampler):
    """Three indices per epoch; records set_epoch."""

    def __init__(self) -> None:
        self.epochs = []

    def set_epoch(self, epoch: int) -> None:
        self.epochs.append(epoch)

    def __iter__(self):
        return iter(range(3))

    def __len__(self) -> int:
        return 3


def test_mmengine_private_api_is_what_the_hook_expects(monkeypatch):
    """Fails loudly if mmengine changes what resumed_dataloader_iterator replaces: the infinite
    iterator's ``_epoch`` (passed to set_epoch at the end of the data) and the loop's
    ``dataloader_iterator`` (built in its constructor, advanced in ``run``)."""
    init = inspect.getsource(IterBasedTrainLoop.__init__)
    run = inspect.getsource(IterBasedTrainLoop.run)
    assert 'self.dataloader_iterator = _InfiniteDataloaderIterator(' in init, (
        'mmengine no longer builds IterBasedTrainLoop.dataloader_iterator as the hook expects')
    assert 'next(self.dataloader_iterator)' in run
    monkeypatch.setattr(mmengine_loops.time, 'sleep', lambda seconds: None)
    sampler = EpochSampler()
    iterator = hook_module.resumed_dataloader_iterator(
        DataLoader(list('abc'), sampler=sampler, batch_size=None), epoch=3)
    assert [next(iterator) for _ in range(4)] == ['a', 'b', 'c', 'a']
    assert sampler.epochs == [4]  # continues from the given epoch


def test_skip_first_answers_without_loading():
    loaded = []

    def source():
        for item in range(5):
            loaded.append(item)
            yield item

    skip = hook_module._SkipFirst(source(), 3)
    assert [next(skip) for _ in range(3)] == [None] * 3 and loaded == []
    assert next(skip) == 0 and loaded == [0]
    with pytest.raises(StopIteration):
        for _ in range(10):
            next(skip)
