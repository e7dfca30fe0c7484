"""setuptools: ``~/.pydistutils.cfg`` ``[easy_install] index_url``.

setuptools still reads this file (``Distribution.parse_config_files``) for legacy
``setup_requires`` and old bootstraps. The key is written with an underscore: the dashed
spelling makes setuptools warn.
"""

from __future__ import annotations

from pypi_switch.targets.base import Context, Edit, FileSpec
from pypi_switch.targets.ini import IniDoc, IniTarget, KeyMatch

__all__ = ["PYDISTUTILS", "PydistutilsTarget"]


def _norm(key: str) -> str:
    return key.strip().lower().replace("-", "_")


class PydistutilsTarget(IniTarget):
    name = "pydistutils"
    section = "easy_install"

    def key_match(self, key: str) -> KeyMatch:
        wanted = _norm(key)
        return lambda k: _norm(k) == wanted

    def index_match(self) -> KeyMatch:
        return self.key_match("index_url")

    def files(self, ctx: Context) -> list[FileSpec]:
        return [FileSpec(ctx.paths.pydistutils)]

    def plan(self, spec: FileSpec, text: str, url: str) -> Edit:
        doc = IniDoc(text)
        changes = doc.ensure(self.section, self.index_match(), "index_url", url)
        return Edit(doc.text, tuple(changes))

    def warnings(self, ctx: Context) -> list[str]:
        out = []
        user = ctx.paths.show(ctx.paths.pydistutils)
        for name in ("setup.cfg",):
            local = ctx.paths.cwd / name
            try:
                text = local.read_text(encoding="utf-8")
                if IniDoc(text).get(self.section, self.index_match()):
                    out.append(
                        f"{ctx.paths.show(local)} sets [easy_install] index_url and "
                        f"overrides {user}"
                    )
            except Exception:
                continue
        extra = ctx.environ.get("DIST_EXTRA_CONFIG")
        if extra:
            out.append(f"DIST_EXTRA_CONFIG={extra}: setuptools reads it after {user}")
        return out


PYDISTUTILS = PydistutilsTarget()
