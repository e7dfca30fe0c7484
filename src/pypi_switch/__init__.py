"""pypi-switch: move pip, setuptools and buildout to a healthy PyPI mirror, and back."""

__version__ = "0.1.0"
