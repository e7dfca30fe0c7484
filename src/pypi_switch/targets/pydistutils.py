"""setuptools: ``~/.pydistutils.cfg`` ``[easy_install] index_url``.

setuptools still reads this file (``Distribution.parse_config_files``) for legacy
``setup_requires`` and old bootstraps. The key is written with an underscore: the dashed
spelling makes setuptools warn. setuptools reads values through ``%`` interpolation, so
a ``%`` of the URL (``p%40ss``) is written ``%%``.
"""

from __future__ import annotations

from pypi_switch.edit import decode, read_state
from pypi_switch.errors import SwitchError
from pypi_switch.targets.base import Context, FileSpec, ParseError
from pypi_switch.targets.ini import Dialect, IniTarget, bom_warning

__all__ = ["PYDISTUTILS", "SETUPTOOLS_KEYS", "PydistutilsTarget"]


def _option_name(key: str) -> str:
    """What setuptools makes of a key: lowercase, with underscores (both with a warning)."""
    return key.lower().replace("-", "_")


SETUPTOOLS_KEYS = Dialect(name=_option_name, percent=True)


class PydistutilsTarget(IniTarget):
    name = "pydistutils"
    section = "easy_install"
    option = "index_url"
    dialect = SETUPTOOLS_KEYS

    def files(self, ctx: Context) -> list[FileSpec]:
        return [FileSpec(ctx.paths.pydistutils)]

    def warnings(self, ctx: Context) -> list[str]:
        out = []
        user = ctx.paths.show(ctx.paths.pydistutils)
        local = ctx.paths.cwd / "setup.cfg"
        try:
            state = read_state(local)
            index = self.current(FileSpec(local), decode(state.data, local))
        except (SwitchError, ParseError):
            index = None  # setuptools itself will say what is wrong with that file
        if index:
            out.append(
                f"{ctx.paths.show(local)} sets [easy_install] index_url and overrides {user}"
            )
        extra = ctx.environ.get("DIST_EXTRA_CONFIG")
        if extra:
            out.append(f"DIST_EXTRA_CONFIG={extra}: setuptools reads it after {user}")
        return out + bom_warning(ctx, ctx.paths.pydistutils, "setuptools")


PYDISTUTILS = PydistutilsTarget()
