"""pixi's `[mirrors]` entry for PyPI: exact edits and exact undo (pixi itself is not
installable here; the files are checked with tomllib, as strict as pixi's TOML reader)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pypi_switch.config import Settings
from pypi_switch.paths import LINUX, WINDOWS, Paths, Place
from pypi_switch.targets.base import Context, FileSpec, ParseError
from pypi_switch.targets.pixi import PIXI

URL = "https://mirror.example.org/pypi/simple/"
SPEC = FileSpec(Path("config.toml"))
CONDA = '[mirrors]\n"https://conda.anaconda.org/conda-forge" = ["https://prefix.dev/conda-forge"]\n'

CASES = {
    "empty": ("", f'[mirrors]\n"https://pypi.org/simple" = ["{URL}"]\n'),
    "other settings": (
        'default-channels = ["conda-forge"]\n',
        f'default-channels = ["conda-forge"]\n\n[mirrors]\n"https://pypi.org/simple" = ["{URL}"]\n',
    ),
    "conda mirrors": (CONDA, CONDA + f'"https://pypi.org/simple" = ["{URL}"]\n'),
    "the user's own pypi mirror": (
        '[mirrors]\n"https://pypi.org/simple/" = ["https://a/simple", "https://b/simple"]  # IT\n',
        f'[mirrors]\n"https://pypi.org/simple/" = ["{URL}"]  # IT\n',
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_and_revert(case: str) -> None:
    before, expected = CASES[case]
    edit = PIXI.plan(SPEC, before, URL)
    assert edit.text == expected
    data = tomllib.loads(edit.text)["mirrors"]
    assert [v for k, v in data.items() if k.rstrip("/") == "https://pypi.org/simple"] == [[URL]]
    assert PIXI.current(SPEC, edit.text) == URL
    assert PIXI.revert(SPEC, edit.text, edit.changes) == before
    assert PIXI.plan(SPEC, edit.text, URL).changes == ()


def test_revert_keeps_what_the_user_changed_since() -> None:
    edit = PIXI.plan(SPEC, "", URL)
    theirs = edit.text.replace(URL, "https://theirs/simple")
    assert PIXI.revert(SPEC, theirs, edit.changes) == theirs


def test_a_wrong_type_is_refused() -> None:
    with pytest.raises(ParseError, match="list of URLs"):
        PIXI.parse('[mirrors]\n"https://pypi.org/simple" = "https://x"\n')


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        (LINUX, {"HOME": "/home/u"}, "/home/u/.pixi/config.toml"),
        (LINUX, {"HOME": "/home/u", "PIXI_HOME": "/opt/pixi"}, "/opt/pixi/config.toml"),
        (WINDOWS, {"USERPROFILE": "C:\\Users\\u"}, "C:/Users/u/.pixi/config.toml"),
    ],
)
def test_the_file_is_pixi_homes(platform: str, environ: dict[str, str], expected: str) -> None:
    paths = Paths.for_place(Place.of(platform, environ), Path("/"))
    assert paths.pixi_config.as_posix() == expected
    ctx = Context(paths=paths, settings=Settings(), environ={"PATH": "/nonexistent"})
    assert PIXI.files(ctx) == [FileSpec(paths.pixi_config)]
