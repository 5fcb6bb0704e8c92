"""Utilities of mmibs."""
from .atomic_write import atomic_open
from .distributed import setup_cpu_distributed, teardown_distributed
from .json_file import read_json_file

__all__ = ['atomic_open', 'read_json_file', 'setup_cpu_distributed', 'teardown_distributed']
