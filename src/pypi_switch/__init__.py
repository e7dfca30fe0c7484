"""pypi-switch: move pip, setuptools and buildout to a healthy PyPI mirror, and back."""

import sys

__version__ = "0.1.0"

if sys.argv[:1] == ["-m"]:
    # `python -m pypi_switch`: runpy is importing this package to find __main__. A Ctrl-C
    # from here on must not end in a traceback from runpy (see interrupts.at_the_edges).
    from pypi_switch import interrupts

    interrupts.at_the_edges()
