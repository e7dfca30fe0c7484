"""zc.buildout: the user's ``default.cfg`` and project ``buildout.cfg`` files, ``[buildout] index``.

Layering, later wins: built-in defaults, the user's default.cfg, the project file and its
``extends`` chain (the extending file wins), then the command line.
"""

from __future__ import annotations

from pathlib import Path

from pypi_switch.edit import decode, read_state
from pypi_switch.errors import SwitchError
from pypi_switch.targets.base import Context, Edit, FileSpec, ParseError
from pypi_switch.targets.ini import Dialect, IniDoc, IniTarget, bom_warning

__all__ = [
    "BUILDOUT",
    "BUILDOUT_KEYS",
    "PROJECT",
    "BuildoutTarget",
    "ProjectTarget",
    "project_files",
]

# buildout's keys are case-sensitive and nothing like ``%`` is interpolated; only
# ``${section:option}`` is substituted, and nothing in a value can escape it.
BUILDOUT_KEYS = Dialect(name=str.strip)


class BuildoutTarget(IniTarget):
    name = "buildout"
    section = "buildout"
    option = "index"
    dialect = BUILDOUT_KEYS

    def files(self, ctx: Context) -> list[FileSpec]:
        return [FileSpec(ctx.paths.buildout_default)]

    def plan(self, spec: FileSpec, text: str, url: str) -> Edit:
        if "${" in url:
            raise SwitchError(
                f"{url}: buildout would read '${{' in it as a reference to another option; "
                "pass the URL with '{' percent-encoded (%7B)"
            )
        return super().plan(spec, text, url)

    def warnings(self, ctx: Context) -> list[str]:
        out = [w for spec in self.files(ctx) for w in bom_warning(ctx, spec.path, "buildout")]
        if not ctx.projects:
            cwd_cfg = ctx.paths.cwd / "buildout.cfg"
            if cwd_cfg.is_file() and _index_in(cwd_cfg):
                show = ctx.paths.show
                out.append(
                    f"{show(cwd_cfg)} sets its own index, which beats "
                    f"{show(ctx.paths.buildout_default)}"
                )
        return out


class ProjectTarget(BuildoutTarget):
    name = "project"

    def files(self, ctx: Context) -> list[FileSpec]:
        return [FileSpec(p) for p in ctx.projects]

    def warnings(self, ctx: Context) -> list[str]:
        out = [w for spec in self.files(ctx) for w in bom_warning(ctx, spec.path, "buildout")]
        for project in ctx.projects:
            for base, index in _extends_with_index(project):
                out.append(
                    f"{project} extends {base}, which sets index = {index}; "
                    f"the index set in {project.name} wins over it"
                )
        return out


BUILDOUT = BuildoutTarget()
PROJECT = ProjectTarget()


def project_files(
    explicit: tuple[Path, ...], configured: tuple[Path, ...], cwd: Path | None
) -> tuple[Path, ...]:
    """The project buildout.cfg files: ``--project`` paths, else the cwd's (unless ``cwd``
    is None), plus config.toml's."""
    found: list[Path] = []
    for raw in explicit:
        path = raw / "buildout.cfg" if raw.is_dir() else raw
        if not path.is_file():
            where = f"no buildout.cfg in {raw}" if raw.is_dir() else f"{raw}: no such file"
            raise SwitchError(f"--project {where}")
        doc = _read_doc(path)  # None: unreadable or invalid, which the plan reports in full
        if doc is not None and "buildout" not in doc.section_names():
            # Most likely another client's file (pip.conf, setup.cfg): a [buildout] section
            # added there would do nothing for buildout and clutter the user's file.
            raise SwitchError(f"--project {path}: not a buildout config (no [buildout] section)")
        found.append(path)
    if not explicit and cwd is not None and (cwd / "buildout.cfg").is_file():
        found.append(cwd / "buildout.cfg")
    for raw in configured:
        path = raw / "buildout.cfg" if raw.is_dir() else raw
        if path.is_file():
            found.append(path)
    unique: dict[Path, None] = {}
    for p in found:
        unique.setdefault(p.absolute(), None)
    return tuple(unique)


def _read_doc(path: Path) -> IniDoc | None:
    try:
        state = read_state(path)
        return IniDoc(decode(state.data, path), BUILDOUT_KEYS) if state.data is not None else None
    except (SwitchError, ParseError):
        return None


def _index_in(path: Path) -> str | None:
    doc = _read_doc(path)
    return doc.get("buildout", "index") if doc else None


def _extends_with_index(project: Path, depth: int = 0) -> list[tuple[Path, str]]:
    """Files of ``project``'s extends chain that set ``[buildout] index``."""
    doc = _read_doc(project)
    if doc is None or depth > 20:
        return []
    out: list[tuple[Path, str]] = []
    for ref in (doc.get("buildout", "extends") or "").split():
        if "://" in ref or "${" in ref:
            continue  # remote or computed: buildout resolves it, we cannot
        base = (project.parent / ref).resolve()
        index = _index_in(base)
        if index:
            out.append((base, index))
        out += _extends_with_index(base, depth + 1)
    return out
