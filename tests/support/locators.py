"""The clients' own locators, run on this machine as if on another OS (a script).

``python locators.py PLATFORM CLIENT`` prints, as JSON, the files CLIENT's own code picks
for PLATFORM (linux, darwin or win32) under this process's environment. The recipe for pip
(checked with pip 26.3): first compute the real platform's paths, then set ``sys.platform``
and reload the modules that read it; for win32 the known-folder lookup (ctypes) becomes a
lookup of APPDATA, LOCALAPPDATA and PROGRAMDATA. Setting ``sys.platform`` alone crashes.
Run it in a fresh process: the reloads leave the interpreter unfit for anything else.
"""

from __future__ import annotations

import importlib
import json
import ntpath
import os
import sys
import types
from pathlib import PureWindowsPath
from typing import Any

_FOLDERS = {
    "CSIDL_APPDATA": "APPDATA",
    "CSIDL_LOCAL_APPDATA": "LOCALAPPDATA",
    "CSIDL_COMMON_APPDATA": "PROGRAMDATA",
}


def _win_folder(csidl: str) -> str:
    return os.environ[_FOLDERS[csidl]]


def pip_layers(platform: str) -> dict[str, Any]:
    import sysconfig

    sysconfig.get_paths()
    import pip._internal.locations  # noqa: F401  (computed with the real platform first)
    import pip._vendor.platformdirs as pd

    sys.platform = platform
    importlib.reload(pd)
    if platform == "win32":
        import pip._vendor.platformdirs.windows as windows

        windows.get_win_folder = _win_folder  # type: ignore[assignment]
    import pip._internal.configuration as configuration
    import pip._internal.utils.appdirs as appdirs
    import pip._internal.utils.compat as compat

    for module in (compat, appdirs, configuration):
        importlib.reload(module)
    config = configuration.Configuration(isolated=False)
    config.load()
    layers = [
        [variant.value, fname]
        for variant in configuration.OVERRIDE_ORDER
        for fname, _ in config._parsers[variant]
    ]
    return {"prefix": sys.prefix, "base_prefix": sys.base_prefix, "layers": layers}


def platformdirs_clients(platform: str, project: str) -> dict[str, Any]:
    """pdm's, poetry's and pypi-switch's own locations (all through platformdirs)."""
    import urllib.request  # noqa: F401  (imports _scproxy when it sees darwin)

    import platformdirs
    import poetry.locations
    from pdm.core import Core
    from pdm.project.config import Config

    Core().create_project(project)  # every lazy import done with the real platform
    sys.platform = platform
    importlib.reload(platformdirs)
    if platform == "win32":
        import platformdirs.windows as windows

        windows.get_win_folder = _win_folder  # type: ignore[assignment]
    importlib.reload(poetry.locations)
    pdm_project = Core().create_project(project, global_config=os.getenv("PDM_CONFIG_FILE"))
    Config.site = None
    Config.get_defaults()
    assert Config.site is not None
    return {
        "base_prefix": sys.base_prefix,
        "poetry": str(poetry.locations.CONFIG_DIR / "config.toml"),
        # pdm makes its config path absolute: a Windows path is relative on Linux.
        "pdm_user": _unrooted(str(pdm_project.global_config.config_file)),
        "pdm_site": _unrooted(str(Config.site.config_file)),
        "own_config": platformdirs.user_config_dir("pypi-switch", appauthor=False, roaming=True),
        "own_state": platformdirs.user_state_dir("pypi-switch", appauthor=False),
    }


def _unrooted(path: str) -> str:
    prefix = os.getcwd().rstrip("/") + "/"
    return path[len(prefix) :] if sys.platform == "win32" and path.startswith(prefix) else path


class _WindowsPath(PureWindowsPath):
    def expanduser(self) -> _WindowsPath:
        return _WindowsPath(ntpath.expanduser(str(self)))


def setuptools_buildout(platform: str) -> dict[str, Any]:
    """setuptools' and buildout's own functions; for win32 their ``os``/``pathlib`` globals
    are swapped for Windows semantics (``ntpath.expanduser`` reads USERPROFILE)."""
    import setuptools  # noqa: F401  (installs the distutils shim _gen_paths looks at)
    import setuptools._distutils.dist as dist
    import zc.buildout.buildout as buildout

    if platform == "win32":
        dist.os = types.SimpleNamespace(name="nt", getenv=os.getenv)  # type: ignore[assignment]
        dist.pathlib = types.SimpleNamespace(Path=_WindowsPath)  # type: ignore[assignment]
        buildout.os = types.SimpleNamespace(path=ntpath, environ=os.environ)
    distribution = dist.Distribution()
    return {
        "setuptools": [str(p) for p in list(distribution._gen_paths())[1:]],
        "buildout": buildout._get_user_config(),
    }


def main() -> None:
    platform, client = sys.argv[1], sys.argv[2]
    if client == "pip":
        out = pip_layers(platform)
    elif client == "platformdirs":
        out = platformdirs_clients(platform, sys.argv[3])
    else:
        out = setuptools_buildout(platform)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
