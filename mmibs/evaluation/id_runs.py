"""Runs of equal ids: the compact form of a panoptic id map used by the evaluation."""
from dataclasses import dataclass
from typing import Tuple

import numpy as np


@dataclass(frozen=True)
class IdRuns:
    """Row-major runs of equal ids of an (H, W) id map.

    Attributes:
        height, width (int): the map's size.
        starts (np.ndarray): (R,) int64 flat index ``y * width + x`` of each run's first pixel,
            increasing from 0; every row begins a run.
        ids (np.ndarray): (R,) int64 id of each run.
    """
    height: int
    width: int
    starts: np.ndarray
    ids: np.ndarray

    @property
    def shape(self) -> Tuple[int, int]:
        return self.height, self.width

    @property
    def lengths(self) -> np.ndarray:
        """(R,) int64 pixels per run."""
        return np.diff(self.starts, append=self.height * self.width)

    def to_dense(self, dtype: type = np.int64) -> np.ndarray:
        """The (H, W) id map as ``dtype``."""
        dense = np.repeat(self.ids.astype(dtype, copy=False), self.lengths)
        return dense.reshape(self.height, self.width)

    @classmethod
    def from_dense(cls, id_map: np.ndarray) -> 'IdRuns':
        """The runs of an (H, W) integer id map."""
        if id_map.ndim != 2 or id_map.size == 0:
            raise ValueError(f'expected a non-empty (H, W) id map, got shape {id_map.shape}')
        height, width = id_map.shape
        flat = id_map.reshape(-1)
        change = np.ones(flat.size, bool)
        change[1:] = flat[1:] != flat[:-1]
        change[::width] = True
        starts = np.flatnonzero(change)
        return cls(height, width, starts, flat[starts].astype(np.int64))
