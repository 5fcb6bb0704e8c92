"""Utilities of mmibs."""
from .atomic_write import atomic_open
from .distributed import setup_cpu_distributed, teardown_distributed

__all__ = ['atomic_open', 'setup_cpu_distributed', 'teardown_distributed']
