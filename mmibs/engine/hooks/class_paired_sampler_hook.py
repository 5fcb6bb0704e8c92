"""ClassPairedSamplerHook: exact and cheap ``resume=True`` for class-paired crop sampling."""
import logging

from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop

# mmengine private API, used in exactly one place (resumed_dataloader_iterator); the test
# tests/engine/hooks/test_class_paired_sampler_hook.py fails loudly if mmengine changes it.
from mmengine.runner.loops import _InfiniteDataloaderIterator

from ...datasets.class_paired import ClassPairedBatchSampler


class _SkipFirst:
    """Iterator that answers the first ``skip`` ``next()`` calls with None without loading
    anything, then delegates: mmengine's resume fast-forward becomes free."""

    def __init__(self, iterator, skip: int) -> None:
        self._iterator = iterator
        self._skip = skip

    def __iter__(self):
        return self

    def __next__(self):
        if self._skip > 0:
            self._skip -= 1
            return None
        return next(self._iterator)


@HOOKS.register_module()
class ClassPairedSamplerHook(Hook):
    """Makes :class:`ClassPairedBatchSampler` resume exactly and cheaply.

    * Saves the sampler's seed, world size and batch size in the message hub (hence in every
      checkpoint) and, on ``resume=True``, restores the seed (mmengine builds the dataloader
      before it resumes, so with ``randomness.seed=None`` the new run would otherwise draw
      other pairs).
    * On resume at iteration ``k`` of an :class:`IterBasedTrainLoop`, starts the sampler at
      batch ``k`` and replaces the loop's dataloader iterator so that mmengine's "advance the
      dataloader ``k`` steps" loads nothing. Without this hook resuming is still exact (batches
      are a function of their number) but mmengine loads and discards ``k`` batches.
    """

    priority = 'VERY_HIGH'
    INFO_KEY = 'class_paired_sampler'

    def before_train(self, runner) -> None:
        loop = runner.train_loop
        dataloader = getattr(loop, 'dataloader', None)
        sampler = getattr(dataloader, 'batch_sampler', None)
        if not isinstance(sampler, ClassPairedBatchSampler):
            print_log('ClassPairedSamplerHook: the train dataloader does not use '
                      'ClassPairedBatchSampler; nothing to do', logger='current',
                      level=logging.WARNING)
            return
        hub = runner.message_hub
        start = int(runner.iter)
        saved = hub.get_info(self.INFO_KEY)
        if start > 0 and saved:
            if saved.get('seed') is not None and int(saved['seed']) != sampler.seed:
                print_log(f"ClassPairedSamplerHook: resuming with the checkpoint's sampler seed "
                          f'{saved["seed"]} (not {sampler.seed})', logger='current')
                sampler.seed = int(saved['seed'])
            for key in ('world_size', 'batch_size'):
                if saved.get(key) is not None and saved[key] != getattr(sampler, key):
                    print_log(f'ClassPairedSamplerHook: {key} changed from {saved[key]} to '
                              f'{getattr(sampler, key)} since the checkpoint; the resumed run '
                              'draws other pairs than an uninterrupted one', logger='current',
                              level=logging.WARNING)
        hub.update_info(self.INFO_KEY, sampler.state_dict())
        if start == 0 or not isinstance(loop, IterBasedTrainLoop) or not hasattr(
                loop, 'dataloader_iterator'):
            return
        epoch = 0
        if sampler.infinite:
            sampler.set_start_batch(start)
        else:
            epoch, batch = divmod(start, len(sampler))
            sampler.set_epoch(epoch)
            sampler.set_start_batch(batch)
        loop.dataloader_iterator = _SkipFirst(resumed_dataloader_iterator(dataloader, epoch),
                                              start)
        print_log(f"ClassPairedSamplerHook: the sampler starts at batch {start}; mmengine's "
                  f'advance of {start} steps loads no data', logger='current')


def resumed_dataloader_iterator(dataloader, epoch: int):
    """mmengine's infinite dataloader iterator of an ``IterBasedTrainLoop``, at ``epoch``.

    The one use of mmengine private API (0.10: ``mmengine.runner.loops.
    _InfiniteDataloaderIterator`` and its ``_epoch``, which it passes to ``set_epoch`` when the
    dataloader is exhausted): ``IterBasedTrainLoop`` builds this iterator in its constructor, so
    a hook that restarts the sampler must build a fresh one in its place.
    """
    iterator = _InfiniteDataloaderIterator(dataloader)
    iterator._epoch = epoch
    return iterator
