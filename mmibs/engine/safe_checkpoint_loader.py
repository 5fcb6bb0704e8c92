"""Load local mmengine checkpoints with torch's safe unpickler (torch >= 2.6).

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True`` and refuses every global that
is not allow-listed. mmengine checkpoints hold more than tensors: the message hub's
``HistoryBuffer`` objects, the numpy arrays and scalars inside them, and ``getattr`` (a
``HistoryBuffer`` pickles its statistics methods as ``getattr(HistoryBuffer, 'mean')``). So
``tools/test.py``, ``load_from`` and ``resume=True`` fail with an ``UnpicklingError``.

:func:`register_safe_checkpoint_loader` does not switch the safe loader off. It replaces
mmengine's loader of *local* files (the ``''`` scheme of ``CheckpointLoader``, used by
``load_from``, ``resume`` and ``load_checkpoint``) with one that runs ``torch.load`` inside
``torch.serialization.safe_globals(MMENGINE_CHECKPOINT_GLOBALS)``: exactly the types above,
only for the duration of that load. Remote checkpoints (``torchvision://``, ``open-mmlab://``,
``https://``) and plain ``torch.load`` calls keep torch's default allow-list.
"""
import os.path as osp
import pickle
import re
from typing import List, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

#: dtype classes that unpickling a numpy array or scalar builds (``numpy.dtypes.Float64DType``...).
_NUMPY_DTYPE_CLASSES = sorted(
    {type(np.dtype(name)) for name in ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                                       'uint16', 'uint32', 'uint64', 'float16', 'float32',
                                       'float64')},
    key=lambda cls: cls.__name__)

#: The globals, beyond torch's defaults, that checkpoints saved by mmengine's Runner contain.
MMENGINE_CHECKPOINT_GLOBALS: List[object] = [
    HistoryBuffer,
    getattr,  # HistoryBuffer.statistics_methods: {'mean': getattr(HistoryBuffer, 'mean'), ...}
    np.core.multiarray._reconstruct,
    np.core.multiarray.scalar,
    np.ndarray,
    np.dtype,
    *_NUMPY_DTYPE_CLASSES,
]


class CheckpointRefusedError(pickle.UnpicklingError):
    """A checkpoint holds a Python global that is not on the allow-list; loading it was
    refused on purpose (unpickling it could run arbitrary code)."""


class CheckpointReadError(RuntimeError):
    """A checkpoint file cannot be read (truncated, empty, not a torch checkpoint)."""


def _refused_global(message: str) -> str:
    """The global torch refused, from its error message (``GLOBAL posix.system`` ...)."""
    match = re.search(r'GLOBAL ([\w.]+)', message) or re.search(r'global[: ]+([\w.]+)', message)
    return match.group(1) if match else 'an unknown global'


def load_from_local_with_mmengine_globals(
        filename: str, map_location: Optional[Union[str, torch.device]] = None) -> dict:
    """mmengine's local-file loader, with :data:`MMENGINE_CHECKPOINT_GLOBALS` allowed.

    Args:
        filename: Path of the checkpoint (``~`` is expanded).
        map_location: As in :func:`torch.load`.

    Returns:
        The loaded checkpoint.

    Raises:
        FileNotFoundError: no such file.
        CheckpointRefusedError: the file holds a global outside the allow-list (the message
            names it and how to allow a type you trust).
        CheckpointReadError: the file cannot be read as a checkpoint (e.g. truncated).
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    safe_globals = getattr(torch.serialization, 'safe_globals', None)
    try:
        if safe_globals is None:  # torch < 2.5 does not default to weights_only=True
            return torch.load(filename, map_location=map_location)
        with safe_globals(MMENGINE_CHECKPOINT_GLOBALS):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        if 'weights only' not in str(e).lower() and 'weights_only' not in str(e):
            raise CheckpointReadError(f'checkpoint {filename} cannot be read ({e})') from e
        name = _refused_global(str(e))
        raise CheckpointRefusedError(
            f'checkpoint {filename}: loading refused on purpose: it contains the Python '
            f'global {name}, which is not on the allow-list of safe types (unpickling it could '
            'run arbitrary code). If you trust this file and that type, allow exactly that '
            'type before loading, e.g. torch.serialization.add_safe_globals([TheType]) in your '
            'script (docs/checkpoints.md)') from None  # torch's text suggests weights_only=False
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        raise CheckpointReadError(
            f'checkpoint {filename} cannot be read as a torch checkpoint ({type(e).__name__}: '
            f'{e}); is it truncated (an interrupted save or copy) or not a checkpoint?') from e


def register_safe_checkpoint_loader() -> None:
    """Make :func:`load_from_local_with_mmengine_globals` mmengine's loader of local
    checkpoint files."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_with_mmengine_globals,
                                     force=True)
