"""Version of the mmibs package."""
__version__ = '0.1.0'
