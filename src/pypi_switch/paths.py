"""Every location the tool reads or writes, per OS, from (platform, environment, home).

One pure function per client gives the files it reads, in load order (a later file wins),
and the one a switch writes, following the client's own code:

- pip: ``pip/_internal/configuration.py`` and ``pip/_internal/utils/appdirs.py`` over its
  vendored platformdirs;
- setuptools: ``setuptools/_distutils/dist.py`` (``Distribution._gen_paths``);
- zc.buildout: ``zc/buildout/buildout.py`` (``_get_user_config``);
- uv: ``crates/uv-dirs`` and ``crates/uv-settings`` (etcetera's base strategy: XDG on macOS);
- pdm: ``platformdirs.user_config_path("pdm")`` (with an author segment on Windows);
- poetry: ``poetry/locations.py``;
- pypi-switch itself: platformdirs' rules.

platformdirs itself reads ``os.environ`` and ``sys.platform``, so it cannot answer "where on
Windows?" for a test on Linux, nor for an environment other than the process's own: its
rules are written out here, and ``tests/test_paths_oracle.py`` holds every function against
the clients' own code and platformdirs, run as if on macOS and Windows.

A path is a ``PurePath`` of the place's own flavour; ``Paths`` turns them into ``Path``
for the machine that runs. Nothing else in the package reads ``os.environ`` to find a file.
"""

from __future__ import annotations

import ntpath
import os
import posixpath
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Literal

__all__ = [
    "APP",
    "LINUX",
    "MACOS",
    "WINDOWS",
    "ClientFiles",
    "Disk",
    "Paths",
    "PipFiles",
    "PipLayerKind",
    "Place",
    "ToolFiles",
    "buildout_files",
    "current_platform",
    "pdm_files",
    "pip_files",
    "poetry_files",
    "setuptools_files",
    "shown",
    "tool_files",
    "uv_files",
]

APP = "pypi-switch"
LINUX = "linux"  # and every other Unix: they follow the XDG rules
MACOS = "darwin"
WINDOWS = "win32"


def current_platform(name: str = sys.platform) -> str:
    if name.startswith("win"):
        return WINDOWS
    return MACOS if name == "darwin" else LINUX


@dataclass(frozen=True)
class Disk:
    """The few questions some clients ask the disk while locating their files."""

    is_dir: Callable[[str], bool] = os.path.isdir
    is_file: Callable[[str], bool] = os.path.isfile
    exists: Callable[[str], bool] = os.path.exists


REAL_DISK = Disk()


@dataclass(frozen=True)
class Place:
    """A user's machine as far as locations go: the OS, its environment and the home."""

    platform: str  # LINUX, MACOS or WINDOWS
    environ: Mapping[str, str]
    home: str

    @classmethod
    def of(cls, platform: str, environ: Mapping[str, str]) -> Place:
        """The place for ``platform`` with ``environ``, its home found the way Python finds
        ``~`` there (the clients all ask ``os.path.expanduser``)."""
        env = dict(environ)
        if platform == WINDOWS:
            return cls(platform, env, _windows_home(env))
        home = env.get("HOME")
        if home is None:
            home = os.path.expanduser("~") if "HOME" not in os.environ else _passwd_home()
        return cls(platform, env, home)

    @classmethod
    def current(cls, environ: Mapping[str, str] | None = None) -> Place:
        return cls.of(current_platform(), os.environ if environ is None else environ)

    @property
    def windows(self) -> bool:
        return self.platform == WINDOWS

    def path(self, first: str | PurePath, *rest: str) -> PurePath:
        kind = PureWindowsPath if self.windows else PurePosixPath
        return kind(first, *rest)

    def env(self, name: str) -> str | None:
        """A variable's value, None when unset or empty (as most clients treat it)."""
        return self.environ.get(name) or None

    def xdg(self, name: str, *, strip: bool = False) -> str | None:
        """An XDG variable: only an absolute path counts (the XDG specification's rule)."""
        value = self.environ.get(name, "")
        value = value.strip() if strip else value
        return value if posixpath.isabs(value) else None

    def xdg_list(self, name: str, *, strip: bool = False) -> list[str]:
        values = self.environ.get(name, "").split(":")
        values = [v.strip() for v in values] if strip else values
        return [v for v in values if posixpath.isabs(v)]

    def known_folder(self, name: str) -> PurePath:
        """A Windows known folder. Windows sets APPDATA, LOCALAPPDATA and PROGRAMDATA to the
        folders its shell API answers; without them the defaults under the profile apply."""
        value = self.env(name) or (self.env("ALLUSERSPROFILE") if name == "PROGRAMDATA" else None)
        if value:
            return PureWindowsPath(ntpath.normpath(value))
        home = PureWindowsPath(self.home)
        return {
            "APPDATA": home / "AppData" / "Roaming",
            "LOCALAPPDATA": home / "AppData" / "Local",
        }.get(name, PureWindowsPath("C:\\ProgramData"))


def _windows_home(environ: Mapping[str, str]) -> str:
    # ntpath.expanduser("~"): USERPROFILE, else HOMEDRIVE + HOMEPATH (HOME is ignored).
    if "USERPROFILE" in environ:
        return environ["USERPROFILE"]
    if "HOMEPATH" not in environ:
        return "~"
    return ntpath.join(environ.get("HOMEDRIVE", ""), environ["HOMEPATH"])


def _passwd_home() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_dir
    except (ImportError, KeyError, AttributeError):
        return os.path.expanduser("~")


@dataclass(frozen=True)
class ClientFiles:
    """A client's config files in load order (a later file wins) and the one a switch writes."""

    reads: tuple[PurePath, ...]
    writes: PurePath


# -- pip ------------------------------------------------------------------------------------


# Where a pip config file stands in pip's load order.
PipLayerKind = Literal["global", "user", "site", "env-file"]


@dataclass(frozen=True)
class PipFiles:
    """pip's configuration files, as ``Configuration.iter_config_files`` yields them.

    Load order, later winning: ``global_files``, the user files (``legacy`` then ``user``;
    skipped when ``env_file`` exists), ``site``, ``env_file``. ``none`` says PIP_CONFIG_FILE
    names the null device: pip loads no file at all.
    """

    global_files: tuple[PurePath, ...]
    legacy: PurePath
    user: PurePath
    site: PurePath | None
    env_file: PurePath | None
    skip_user: bool
    none: bool

    @property
    def writes(self) -> PurePath:
        # The legacy file loads before the new one, so pypi-switch owns it and only corrects
        # an index set in the new one: the user's own file stays theirs.
        return self.legacy

    def layers(self) -> tuple[tuple[PurePath, PipLayerKind], ...]:
        """(file, kind) in load order."""
        if self.none:
            return ()
        out: list[tuple[PurePath, PipLayerKind]] = [(p, "global") for p in self.global_files]
        if not self.skip_user:
            out += [(self.legacy, "user"), (self.user, "user")]
        if self.site is not None:
            out.append((self.site, "site"))
        if self.env_file is not None:
            out.append((self.env_file, "env-file"))
        return tuple(out)

    @property
    def reads(self) -> tuple[PurePath, ...]:
        return tuple(p for p, _ in self.layers())


# platformdirs adds $HOMEBREW_PREFIX/share to the macOS site directories when Python is a
# Homebrew framework build; pip's vendored copy knows the formula link only, the current
# platformdirs (pdm's) also the Cellar keg and the free-threading build.
_BREW_PIP = re.compile(
    r"(?P<prefix>.+)/opt/python[^/]*/Frameworks/Python\.framework/Versions/[^/]+"
)
_BREW = re.compile(
    r"(?P<prefix>.+)/(?:opt/python[^/]*|Cellar/python[^/]*/[0-9._abrc]+)"
    r"/Frameworks/PythonT?\.framework/Versions/[^/]+"
)


def _homebrew_prefix(base_prefix: str, *, pip: bool) -> str | None:
    found = (_BREW_PIP if pip else _BREW).fullmatch(base_prefix)
    return found["prefix"] if found else None


def pip_files(
    place: Place,
    *,
    prefix: str | None = None,
    base_prefix: str = "",
    disk: Disk = REAL_DISK,
) -> PipFiles:
    """pip's files for ``place``; ``prefix`` is the ``sys.prefix`` of the Python that runs
    pip (its site file), ``base_prefix`` its ``sys.base_prefix`` (Homebrew, on macOS)."""
    name = "pip.ini" if place.windows else "pip.conf"
    home = place.path(place.home)
    if place.windows:
        global_dirs = [place.known_folder("PROGRAMDATA") / "pip"]
        user_dir = place.known_folder("APPDATA") / "pip"
        legacy = home / "pip" / name
    elif place.platform == MACOS:
        data_dirs = place.xdg_list("XDG_DATA_DIRS", strip=True)
        if not data_dirs:
            brew = _homebrew_prefix(base_prefix, pip=True)
            data_dirs = [*([f"{brew}/share"] if brew else []), "/Library/Application Support"]
        global_dirs = [place.path(d, "pip") for d in data_dirs]
        # pip: ~/Library/Application Support/pip only if that directory exists, else a
        # Linux-like ~/.config/pip that ignores XDG_CONFIG_HOME.
        data_home = place.xdg("XDG_DATA_HOME", strip=True)
        support = place.path(data_home or home / "Library" / "Application Support", "pip")
        user_dir = support if disk.is_dir(support.as_posix()) else home / ".config" / "pip"
        legacy = home / ".pip" / name
    else:
        config_dirs = place.xdg_list("XDG_CONFIG_DIRS", strip=True) or ["/etc/xdg"]
        global_dirs = [*(place.path(d, "pip") for d in config_dirs), place.path("/etc")]
        config_home = place.xdg("XDG_CONFIG_HOME", strip=True)
        user_dir = place.path(config_home or home / ".config", "pip")
        legacy = home / ".pip" / name
    raw = place.environ.get("PIP_CONFIG_FILE")
    env_file = place.path(raw) if raw else None
    return PipFiles(
        global_files=tuple(d / name for d in global_dirs),
        legacy=legacy,
        user=user_dir / name,
        site=place.path(prefix, name) if prefix else None,
        env_file=env_file,
        skip_user=bool(raw) and disk.exists(raw or ""),
        none=raw == ("nul" if place.windows else "/dev/null"),
    )


# -- setuptools, buildout -------------------------------------------------------------------


def setuptools_files(place: Place, *, cwd: str = ".") -> ClientFiles:
    """``~/.pydistutils.cfg`` (``pydistutils.cfg``, no dot, on Windows), ./setup.cfg, then
    ``DIST_EXTRA_CONFIG``. (The stdlib-side ``distutils.cfg`` belongs to the Python install.)"""
    user = place.path(place.home, ("" if place.windows else ".") + "pydistutils.cfg")
    extra = place.environ.get("DIST_EXTRA_CONFIG")
    reads = (user, place.path(cwd, "setup.cfg"), *([place.path(extra)] if extra else []))
    return ClientFiles(reads=reads, writes=user)


def buildout_files(place: Place) -> ClientFiles:
    # buildout takes BUILDOUT_HOME as soon as it is set, even empty (then the cwd's file).
    home = place.environ.get("BUILDOUT_HOME")
    folder = place.path(home) if home is not None else place.path(place.home, ".buildout")
    user = folder / "default.cfg"
    return ClientFiles(reads=(user,), writes=user)


# -- uv -------------------------------------------------------------------------------------


def uv_system_file(place: Place, *, disk: Disk = REAL_DISK) -> PurePath | None:
    """The one system file uv reads, if any: the first ``$XDG_CONFIG_DIRS/uv/uv.toml`` that
    exists (``/etc/xdg`` by default), else ``/etc/uv/uv.toml``; on Windows
    ``%SYSTEMDRIVE%\\ProgramData\\uv\\uv.toml``."""
    if place.windows:
        drive = place.environ.get("SYSTEMDRIVE")
        if drive is None:
            return None
        system = PureWindowsPath(drive + "\\", "ProgramData", "uv", "uv.toml")
        return system if disk.is_file(system.as_posix()) else None
    dirs = place.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    for folder in dirs.split(":"):
        if not folder:
            continue  # uv 0.13 skips an empty entry (checked with the real binary)
        candidate = place.path(folder, "uv", "uv.toml")
        if disk.is_file(candidate.as_posix()):
            return candidate
    fallback = place.path("/etc/uv/uv.toml")
    return fallback if disk.exists(fallback.as_posix()) else None


def uv_files(place: Place, *, disk: Disk = REAL_DISK) -> ClientFiles:
    """uv's user ``uv.toml`` (XDG on macOS too, ``%APPDATA%\\uv`` on Windows) after the
    system file. ``UV_CONFIG_FILE`` replaces both, ``UV_NO_CONFIG`` drops every file."""
    if place.windows:
        user = place.known_folder("APPDATA") / "uv" / "uv.toml"
    else:
        user = place.path(place.xdg("XDG_CONFIG_HOME") or f"{place.home}/.config", "uv", "uv.toml")
    if _truthy(place.environ.get("UV_NO_CONFIG")):
        return ClientFiles(reads=(), writes=user)
    if place.env("UV_CONFIG_FILE"):
        return ClientFiles(reads=(place.path(place.environ["UV_CONFIG_FILE"]),), writes=user)
    system = (
        None
        if _truthy(place.environ.get("UV_NO_SYSTEM_CONFIG"))
        else uv_system_file(place, disk=disk)
    )
    return ClientFiles(reads=(*([system] if system else []), user), writes=user)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on", "y", "t")


# -- platformdirs-based clients: pdm, poetry, pypi-switch -------------------------------------


def _user_config_dir(place: Place, app: str, *, author: bool, roaming: bool) -> PurePath:
    """platformdirs ``user_config_dir(app)`` (``appauthor=None`` when ``author``)."""
    if place.windows:
        base = place.known_folder("APPDATA" if roaming else "LOCALAPPDATA")
        return base / app / app if author else base / app
    config_home = place.xdg("XDG_CONFIG_HOME")
    if config_home:
        return place.path(config_home, app)
    if place.platform == MACOS:
        return place.path(place.home, "Library", "Application Support", app)
    return place.path(place.home, ".config", app)


def _site_config_dir(place: Place, app: str, *, author: bool, base_prefix: str) -> PurePath:
    """platformdirs ``site_config_dir(app)``: the first site directory only."""
    if place.windows:
        base = place.known_folder("PROGRAMDATA")
        return base / app / app if author else base / app
    dirs = place.xdg_list("XDG_CONFIG_DIRS")
    if dirs:
        return place.path(dirs[0], app)
    if place.platform == MACOS:
        brew = _homebrew_prefix(base_prefix, pip=False)
        return place.path(f"{brew}/share" if brew else "/Library/Application Support", app)
    return place.path("/etc/xdg", app)


def pdm_files(place: Place, *, base_prefix: str = "") -> ClientFiles:
    """pdm's site ``config.toml`` (defaults), then its home one (``PDM_CONFIG_FILE`` instead).

    pdm asks platformdirs without ``appauthor``: on Windows the folder is
    ``%LOCALAPPDATA%\\pdm\\pdm``.
    """
    user = _user_config_dir(place, "pdm", author=True, roaming=False) / "config.toml"
    site = _site_config_dir(place, "pdm", author=True, base_prefix=base_prefix) / "config.toml"
    chosen = place.path(place.environ["PDM_CONFIG_FILE"]) if place.env("PDM_CONFIG_FILE") else user
    return ClientFiles(reads=(site, chosen), writes=user)


def poetry_files(place: Place) -> ClientFiles:
    """poetry's ``config.toml``: in ``POETRY_CONFIG_DIR``, else platformdirs'
    ``user_config_dir("pypoetry", appauthor=False, roaming=True)``."""
    folder = place.env("POETRY_CONFIG_DIR")
    base = (
        place.path(folder)
        if folder
        else _user_config_dir(place, "pypoetry", author=False, roaming=True)
    )
    config = base / "config.toml"
    return ClientFiles(reads=(config,), writes=config)


@dataclass(frozen=True)
class ToolFiles:
    config: PurePath  # config.toml
    state: PurePath  # journal, backups, lock, auto log


def tool_files(place: Place) -> ToolFiles:
    """pypi-switch's own files: platformdirs' user config and state dirs."""
    config = _user_config_dir(place, APP, author=False, roaming=True) / "config.toml"
    if place.windows:
        state = place.known_folder("LOCALAPPDATA") / APP
    elif place.xdg("XDG_STATE_HOME"):
        state = place.path(place.xdg("XDG_STATE_HOME") or "", APP)
    elif place.platform == MACOS:
        state = place.path(place.home, "Library", "Application Support", APP)
    else:
        state = place.path(place.home, ".local", "state", APP)
    return ToolFiles(config=config, state=state)


# -- how a path is shown --------------------------------------------------------------------

_WINDOWS_FOLDERS = ("APPDATA", "LOCALAPPDATA", "PROGRAMDATA", "USERPROFILE")


def shown(path: PurePath | str, place: Place) -> str:
    """``path`` as that OS's users write it: ``~/.config/uv/uv.toml``,
    ``~/Library/Application Support/pdm/config.toml``, ``%APPDATA%\\pip\\pip.ini``."""
    if place.windows:
        target = PureWindowsPath(path)
        for name in _WINDOWS_FOLDERS:
            base = place.env(name)
            if base and _under(target, PureWindowsPath(base)):
                rest = target.relative_to(PureWindowsPath(base))
                return f"%{name}%" + ("" if rest == PureWindowsPath() else f"\\{rest}")
        return str(target)
    target_posix = PurePosixPath(path)
    home = PurePosixPath(place.home)
    if place.home not in ("", "/") and _under(target_posix, home):
        rest_posix = target_posix.relative_to(home)
        return "~" if rest_posix == PurePosixPath() else f"~/{rest_posix}"
    return str(target_posix)


def _under(path: PurePath, base: PurePath) -> bool:
    try:
        path.relative_to(base)
    except ValueError:
        return False
    return True


# -- the running machine --------------------------------------------------------------------


def _real(path: PurePath) -> Path:
    # as_posix: a Windows-rule path built over a POSIX temp dir (the tests' way of running
    # Windows rules on Linux) stays usable; on Windows, Path accepts the forward slashes.
    return Path(path.as_posix()) if isinstance(path, PureWindowsPath) else Path(path)


@dataclass(frozen=True)
class Paths:
    """Every file, for one place, as ``Path`` objects of the machine that runs."""

    place: Place
    cwd: Path
    pip: PipFiles = field(repr=False)
    tool_config: Path
    state_dir: Path
    pydistutils: Path
    buildout_default: Path
    uv_user: Path
    pdm_user: Path
    poetry_config: Path

    @classmethod
    def for_place(
        cls, place: Place, cwd: Path | None = None, *, prefix: str | None = None
    ) -> Paths:
        """``prefix``: the virtualenv whose pip reads its own site file (None: none known)."""
        tool = tool_files(place)
        return cls(
            place=place,
            cwd=cwd if cwd is not None else Path.cwd(),
            pip=pip_files(place, prefix=prefix, base_prefix=sys.base_prefix),
            tool_config=_real(tool.config),
            state_dir=_real(tool.state),
            pydistutils=_real(setuptools_files(place).writes),
            buildout_default=_real(buildout_files(place).writes),
            uv_user=_real(uv_files(place).writes),
            pdm_user=_real(pdm_files(place).writes),
            poetry_config=_real(poetry_files(place).writes),
        )

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Paths:
        """This machine: the current OS, ``environ`` (default ``os.environ``) and the cwd.

        pypi-switch runs in its own Python, not the user's: the site file it can know is the
        active virtualenv's (``VIRTUAL_ENV``).
        """
        place = Place.current(environ)
        return cls.for_place(place, prefix=place.env("VIRTUAL_ENV"))

    @property
    def home(self) -> Path:
        return _real(self.place.path(self.place.home))

    @property
    def pip_legacy(self) -> Path:
        return _real(self.pip.legacy)

    @property
    def pip_user(self) -> Path:
        return _real(self.pip.user)

    @property
    def pip_global(self) -> tuple[Path, ...]:
        return tuple(_real(p) for p in self.pip.global_files)

    def pip_layers(self) -> tuple[tuple[Path, PipLayerKind], ...]:
        """pip's files in load order (later wins) with their kind."""
        return tuple((_real(p), kind) for p, kind in self.pip.layers())

    @property
    def uv_system(self) -> Path | None:
        found = uv_system_file(self.place)
        return _real(found) if found else None

    @property
    def config_home(self) -> Path:
        """``${XDG_CONFIG_HOME:-~/.config}``: where systemd looks for user units (Linux)."""
        return _real(
            self.place.path(self.place.xdg("XDG_CONFIG_HOME") or f"{self.place.home}/.config")
        )

    @property
    def pixi_config(self) -> Path:
        """pixi's last global file, which wins over its XDG ones: ``$PIXI_HOME/config.toml``,
        ``PIXI_HOME`` defaulting to ``~/.pixi`` on every OS (``pixi_config::pixi_home``)."""
        folder = self.place.env("PIXI_HOME") or self.place.path(self.place.home, ".pixi")
        return _real(self.place.path(folder, "config.toml"))

    def show(self, path: PurePath | str) -> str:
        return shown(path, self.place)
