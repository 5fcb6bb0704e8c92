"""Utilities of mmibs."""
from .distributed import setup_cpu_distributed

__all__ = ['setup_cpu_distributed']
