"""Packaging for mmibs (``pip install -e .``).

torch and mmcv are deliberately not pulled in here: torch must match the machine (CPU or CUDA build)
and mmcv must be compiled against it. ``tools/setup_env.sh`` (run by ``make test`` / ``make demo``)
installs both in the right order.
"""
import sys
from pathlib import Path

from setuptools import Extension, find_packages, setup

HERE = Path(__file__).parent


def read_requirements(name: str) -> list:
    """Return the requirement specifiers of ``requirements/<name>``."""
    lines = (HERE / 'requirements' / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith('#')]


def read_version() -> str:
    """Return ``__version__`` from ``mmibs/version.py`` without importing the package."""
    namespace: dict = {}
    exec((HERE / 'mmibs' / 'version.py').read_text(), namespace)
    return namespace['__version__']


setup(
    name='mmibs',
    version=read_version(),
    description='Intra-Batch Supervision for panoptic segmentation on high-resolution images, '
    'for MMDetection 3.x',
    long_description=(HERE / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools', 'bench')),
    python_requires='>=3.8',
    install_requires=read_requirements('runtime.txt') + ['mmcv>=2.0.0rc4,<2.2.0'],
    extras_require={'tests': read_requirements('tests.txt')},
    # Decodes panoptic PNGs into runs of equal ids for the evaluation (plain C, no other library).
    ext_modules=[
        Extension('mmibs.evaluation._png_runs', ['mmibs/evaluation/csrc/png_runs.c'],
                  extra_compile_args=['-O3'] if sys.platform != 'win32' else [])
    ],
    zip_safe=False,
)
