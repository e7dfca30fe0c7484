"""pip: ``~/.pip/pip.conf`` and the user file that would shadow it.

pip loads, later winning: global files, ``~/.pip/pip.conf``, the XDG user file, the site
(virtualenv) file, ``PIP_CONFIG_FILE``, then ``PIP_*`` variables. A command section
(``[install]``...) beats ``[global]`` from any file. So a switch sets ``[global]`` in the
legacy file *and* every index-url already set in a section of either user file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pypi_switch.edit import decode, read_state
from pypi_switch.errors import SwitchError
from pypi_switch.paths import PipLayerKind
from pypi_switch.targets.base import Change, Context, Edit, FileSpec, ParseError
from pypi_switch.targets.ini import Dialect, IniDoc, IniTarget, bom_warning
from pypi_switch.urls import host_of, is_pypi, needs_trusted_host

if TYPE_CHECKING:
    from pypi_switch.net.trust import Trust

__all__ = [
    "INDEX",
    "PIP",
    "PIP_KEYS",
    "Layer",
    "PipTarget",
    "effective_cert",
    "option_from_files",
    "pip_layers",
    "pip_trust",
]

INDEX = "index-url"


def _option_name(key: str) -> str:
    """pip's own ``_normalize_name``: ``--Index_URL`` sets ``index-url``."""
    return key.lower().replace("_", "-").removeprefix("--")


# pip's parser applies the same normalisation before refusing a repeated option.
PIP_KEYS = Dialect(name=_option_name, duplicate=_option_name)


class PipTarget(IniTarget):
    name = "pip"
    section = "global"
    option = INDEX
    dialect = PIP_KEYS

    def files(self, ctx: Context) -> list[FileSpec]:
        # The legacy file is the one pypi-switch owns; the XDG file is only corrected.
        # A command section set in a global file beats [global] from any file, but a user
        # file loads later: setting the same section in ours makes the switch count.
        shadowing = {
            section
            for layer in pip_layers(ctx)
            if layer.kind == "global" and layer.doc is not None
            for section in layer.doc.section_names()
            if section != "global" and layer.doc.options(section, INDEX)
        }
        return [
            FileSpec(ctx.paths.pip_legacy, sections=tuple(sorted(shadowing))),
            FileSpec(ctx.paths.pip_user, create=False),
        ]

    def current(self, spec: FileSpec, text: str) -> str | None:
        doc = self.doc(text)
        found = doc.get("global", INDEX)
        if found is None:
            for name in doc.section_names():
                found = found or doc.get(name, INDEX)
        return found

    def plan(self, spec: FileSpec, text: str, url: str) -> Edit:
        doc = self.doc(text)
        changes: list[Change] = []
        if spec.create:
            changes += doc.ensure("global", INDEX, INDEX, url)
        for name in spec.sections:
            changes += doc.ensure(name, INDEX, INDEX, url)
        for name in doc.section_names():
            if (spec.create and name == "global") or name in spec.sections:
                continue
            changes += doc.update(name, INDEX, url)
        if spec.create and needs_trusted_host(url):
            host = host_of(url)
            trusted = doc.get("global", "trusted-host")
            if trusted is None:
                changes += doc.ensure("global", "trusted-host", "trusted-host", host)
            elif host not in trusted.split():
                changes += doc.update("global", "trusted-host", f"{trusted} {host}".strip())
        return Edit(doc.text, tuple(changes))

    def warnings(self, ctx: Context) -> list[str]:
        env = ctx.environ
        out: list[str] = []
        if env.get("PIP_INDEX_URL"):
            out.append(
                f"PIP_INDEX_URL is set ({env['PIP_INDEX_URL']}): pip uses it instead of "
                "every config file"
            )
        config_file = env.get("PIP_CONFIG_FILE")
        if config_file:
            if config_file == os.devnull:
                out.append("PIP_CONFIG_FILE=/dev/null: pip loads no config file at all")
            elif Path(config_file).exists():
                show = ctx.paths.show
                out.append(
                    f"PIP_CONFIG_FILE={config_file}: pip reads that file last and skips "
                    f"{show(ctx.paths.pip_legacy)} and {show(ctx.paths.pip_user)}"
                )
        extra = env.get("PIP_EXTRA_INDEX_URL", "")
        if any(is_pypi(u) for u in extra.split()):
            out.append(
                f"PIP_EXTRA_INDEX_URL is set ({extra}) and points at PyPI: "
                "pip keeps trying PyPI too"
            )
        out += _venv_warnings(ctx)
        for layer in pip_layers(ctx):
            out += bom_warning(ctx, layer.path, "pip")
            doc = layer.doc
            if doc is None:
                continue
            for section in doc.section_names():
                for opt in doc.options(section, "extra-index-url"):
                    if any(is_pypi(u) for u in opt.value.split()):
                        out.append(
                            f"{ctx.paths.show(layer.path)} [{section}] {opt.key} still points "
                            "at PyPI: "
                            "pip keeps trying PyPI too"
                        )
            # A global file's sections are countered in ~/.pip/pip.conf (see files()).
            if layer.kind in ("site", "env-file"):
                for section in doc.section_names():
                    if doc.options(section, INDEX):
                        out.append(
                            f"{ctx.paths.show(layer.path)} [{section}] sets index-url and "
                            f"overrides {ctx.paths.show(ctx.paths.pip_legacy)}"
                            + (" for pip " + section if section != "global" else "")
                        )
        return out


PIP = PipTarget()


def _venv_warnings(ctx: Context) -> list[str]:
    """A project's virtualenv reads its own pip.conf, activated or not (``.venv/bin/pip``)."""
    from pypi_switch.traces import context_dirs

    out = []
    active = Path(ctx.environ["VIRTUAL_ENV"]).absolute() if ctx.environ.get("VIRTUAL_ENV") else None
    for folder in context_dirs(ctx):
        for venv in (folder / ".venv", folder / "venv"):
            if active is not None and venv.absolute() == active:
                continue  # told already, as pip's site file
            conf = venv / "pip.conf"
            try:
                state = read_state(conf)
                doc = IniDoc(decode(state.data, conf), PIP_KEYS) if state.data else None
            except (SwitchError, ParseError):
                continue
            if doc is None:
                continue
            sections = [s for s in doc.section_names() if doc.options(s, INDEX)]
            extras = [
                s
                for s in doc.section_names()
                for opt in doc.options(s, "extra-index-url")
                if any(is_pypi(u) for u in opt.value.split())
            ]
            show = ctx.paths.show
            pip = show(venv / "bin" / "pip")
            for section in sections:
                out.append(
                    f"{show(conf)} [{section}] sets index-url: {pip} uses it instead of "
                    f"{show(ctx.paths.pip_legacy)}, even when that virtualenv is not activated"
                )
            for section in dict.fromkeys(extras):
                out.append(
                    f"{show(conf)} [{section}] extra-index-url points at PyPI: "
                    f"{pip} keeps trying PyPI too"
                )
    return out


@dataclass(frozen=True)
class Layer:
    path: Path
    kind: PipLayerKind
    doc: IniDoc | None  # None: unreadable or not valid INI


def pip_layers(ctx: Context) -> list[Layer]:
    """pip's config files in load order (later wins), parsed; unreadable ones are skipped."""
    layers = []
    for path, kind in ctx.paths.pip_layers():
        try:
            state = read_state(path)
            if state.data is None:
                continue
            layers.append(Layer(path, kind, IniDoc(decode(state.data, path), PIP_KEYS)))
        except (SwitchError, ParseError):
            layers.append(Layer(path, kind, None))
    return layers


def pip_trust(ctx: Context) -> Trust:
    """The certificates pip trusts here: the system store, certifi, and the bundles that
    ``PIP_CERT`` (or this configuration's ``cert``) and the other variables name."""
    from pypi_switch.net.trust import Trust

    return Trust.from_environ(ctx.environ, pip_cert=effective_cert(ctx))


def effective_cert(ctx: Context, command: str = "install") -> tuple[str, str] | None:
    """The CA bundle pip's config files name (``cert``), as (where, path), if any.

    ``PIP_CERT`` is left to the caller (the transport reads it beside the other variables).
    """
    found = option_from_files(ctx, "cert", command)
    return (found[1], found[0]) if found else None


def option_from_files(ctx: Context, option: str, command: str) -> tuple[str, str] | None:
    """(value, where) of ``option`` as ``pip <command>`` would use it, from its config files
    alone: a command section beats ``[global]`` from any file, a later file beats an earlier
    one; keys are matched the way pip names them (``--index_url`` is ``index-url``)."""
    found: tuple[str, str] | None = None
    for section in ("global", command):
        for layer in pip_layers(ctx):
            value = layer.doc.get(section, option) if layer.doc else None
            if value:
                found = (value, f"{ctx.paths.show(layer.path)} [{section}]")
    return found
