"""RandomStateHook: ``resume=True`` continues the random streams where the checkpoint left them.

mmengine checkpoints hold the model, optimizer, schedulers and message hub, but no random state.
A resumed run therefore restarts torch's global generator (dropout, mmdet's point sampling in
the Hungarian matching) and the IBS generators from the seed, and its losses drift from the
uninterrupted run's after the first resumed iteration. The data stream needs nothing: mmengine
replays the consumed batches through the same (identically seeded) workers, and class-paired
crops are pure functions of their sample.

This hook stores, at every checkpoint, torch's CPU (and CUDA) generator states and the state of
every :class:`~mmibs.models.ibs.IntraBatchSupervision` generator of the model in the message hub
part of the checkpoint (which mmengine restores on resume only, not for ``load_from``), and
restores them before training continues. Validation does not consume training randomness: the
torch states are put back after every validation run, so a run that validated at a checkpoint
and one resumed from it continue alike.
"""
from typing import Dict, Optional

import torch
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

#: Message-hub key of the state saved in checkpoints, and of the state kept during validation.
CHECKPOINT_KEY = 'mmibs_random_state'
VAL_KEY = 'mmibs_random_state_before_val'


def _ibs_pairings(model: torch.nn.Module) -> Dict[str, object]:
    """``{module name: CrossCropPairing}`` of the IBS components of ``model``."""
    from ...models.ibs import IntraBatchSupervision  # models import engine-free code only
    if is_model_wrapper(model):
        model = model.module
    return {name: module.pairing for name, module in model.named_modules()
            if isinstance(module, IntraBatchSupervision)}


def capture_random_state(model: Optional[torch.nn.Module] = None) -> dict:
    """torch's CPU / CUDA generator states and, with ``model``, its IBS generators'."""
    state = {'torch': torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    if model is not None:
        state['ibs'] = {name: {str(device): gen.get_state()
                               for device, gen in pairing._generators.items()}
                        for name, pairing in _ibs_pairings(model).items()}
    return state


def restore_random_state(state: dict, model: Optional[torch.nn.Module] = None) -> None:
    """Put back a state of :func:`capture_random_state`."""
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])
    if model is not None:
        pairings = _ibs_pairings(model)
        for name, generators in state.get('ibs', {}).items():
            if name in pairings:
                for device, gen_state in generators.items():
                    pairings[name].generator(torch.device(device)).set_state(gen_state)


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Saves the random state in every checkpoint and restores it on resume (module docstring).

    ``tools/train.py`` adds it to every config's ``custom_hooks`` (unless present); a script of
    your own adds ``dict(type='RandomStateHook')``.
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Write the current random state into the checkpoint's message hub."""
        info = checkpoint.setdefault('message_hub', {}).setdefault('runtime_info', {})
        info[CHECKPOINT_KEY] = capture_random_state(runner.model)
        checkpoint['message_hub'].setdefault('resumed_keys', {})[CHECKPOINT_KEY] = True

    def before_train(self, runner) -> None:
        """On resume, continue the random streams of the checkpoint."""
        state = runner.message_hub.get_info(CHECKPOINT_KEY)
        if state is not None and runner.iter > 0:
            restore_random_state(state, runner.model)

    def before_val(self, runner) -> None:
        """Keep the training random state while validation runs."""
        runner.message_hub.update_info(VAL_KEY, capture_random_state(), resumed=False)

    def after_val(self, runner) -> None:
        """Put the training random state back."""
        state = runner.message_hub.get_info(VAL_KEY)
        if state is not None:
            restore_random_state(state)
