"""The uv and pdm targets as pure text-in/text-out functions: exact text, exact undo.

Each ``fixtures/<target>/<case>.toml`` has a ``<case>.expected`` with ``{URL}`` where the
mirror goes (``{URL}`` in the ``.toml`` itself means the file already points there).
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pypi_switch.config import Settings
from pypi_switch.paths import LINUX, Paths, Place
from pypi_switch.render import safe
from pypi_switch.targets.base import Change, Context, FileSpec, ParseError, Target
from pypi_switch.targets.pdm import PDM, PdmTarget
from pypi_switch.targets.uv import UV, UvTarget

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
URL = "https://mirror.example.org/pypi/simple/"
OTHER = "https://other-mirror.example.net/simple"
SPEC = FileSpec(Path("/nonexistent/config.toml"))
TARGETS: dict[str, UvTarget | PdmTarget] = {"uv": UV, "pdm": PDM}
AS_PROTOCOL: tuple[Target, ...] = (UV, PDM)  # mypy checks they satisfy the protocol


def _cases(kind: str) -> list[str]:
    return sorted(p.stem for p in (FIXTURES / kind).glob("*.toml"))


CASES = [(kind, case) for kind in ("uv", "pdm") for case in _cases(kind)]
IDS = [f"{kind}-{case}" for kind, case in CASES]


def _read(kind: str, case: str, url: str = URL) -> tuple[str, str]:
    folder = FIXTURES / kind
    original = (folder / f"{case}.toml").read_text().replace("{URL}", url)
    expected = (folder / f"{case}.expected").read_text().replace("{URL}", url)
    return original, expected


def test_every_fixture_has_its_expected_text() -> None:
    for kind in ("uv", "pdm"):
        assert _cases(kind)
        for case in _cases(kind):
            assert (FIXTURES / kind / f"{case}.expected").is_file(), case


@pytest.mark.parametrize(("kind", "case"), CASES, ids=IDS)
def test_plan_gives_the_expected_text(kind: str, case: str) -> None:
    original, expected = _read(kind, case)
    target = TARGETS[kind]
    edit = target.plan(SPEC, original, URL)
    assert edit.text == expected
    assert bool(edit.changes) == (original != expected)
    assert all(c.new == URL for c in edit.changes)
    target.parse(edit.text)
    assert target.current(SPEC, edit.text) == URL


@pytest.mark.parametrize(("kind", "case"), CASES, ids=IDS)
def test_plan_twice_changes_nothing(kind: str, case: str) -> None:
    original, _ = _read(kind, case)
    target = TARGETS[kind]
    switched = target.plan(SPEC, original, URL).text
    again = target.plan(SPEC, switched, URL)
    assert again.text == switched
    assert again.changes == ()


@pytest.mark.parametrize(("kind", "case"), CASES, ids=IDS)
def test_revert_gives_back_the_original(kind: str, case: str) -> None:
    original, _ = _read(kind, case)
    target = TARGETS[kind]
    edit = target.plan(SPEC, original, URL)
    assert target.revert(SPEC, edit.text, edit.changes) == original


@pytest.mark.parametrize(("kind", "case"), CASES, ids=IDS)
def test_changes_survive_the_journal(kind: str, case: str) -> None:
    original, _ = _read(kind, case)
    target = TARGETS[kind]
    edit = target.plan(SPEC, original, URL)
    changes = tuple(Change.from_json(c.to_json()) for c in edit.changes)
    assert target.revert(SPEC, edit.text, changes) == original


@pytest.mark.parametrize(("kind", "case"), CASES, ids=IDS)
def test_reswitch_is_revert_then_plan(kind: str, case: str) -> None:
    """Mirror A -> mirror B as the engine does it: old values still describe the original."""
    original, _ = _read(kind, case)
    target = TARGETS[kind]
    first = target.plan(SPEC, original, URL)
    back = target.revert(SPEC, first.text, first.changes)
    second = target.plan(SPEC, back, OTHER)
    direct = target.plan(SPEC, original, OTHER)
    assert second == direct
    assert target.revert(SPEC, second.text, second.changes) == original


@pytest.mark.parametrize(("kind", "case"), CASES, ids=IDS)
def test_revert_keeps_a_later_edit_elsewhere(kind: str, case: str) -> None:
    original, _ = _read(kind, case)
    target = TARGETS[kind]
    edit = target.plan(SPEC, original, URL)
    edited = "# added by the user after the switch\n" + edit.text
    reverted = target.revert(SPEC, edited, edit.changes)
    assert reverted == "# added by the user after the switch\n" + original


@pytest.mark.parametrize(("kind", "case"), CASES, ids=IDS)
def test_revert_keeps_a_value_the_user_changed(kind: str, case: str) -> None:
    original, _ = _read(kind, case)
    target = TARGETS[kind]
    edit = target.plan(SPEC, original, URL)
    if not edit.changes:
        return
    mine = "https://users-own.example.com/simple"
    edited = edit.text.replace(URL, mine)
    reverted = target.revert(SPEC, edited, edit.changes)
    assert reverted == edited
    assert target.current(SPEC, reverted) == mine


def test_uv_changes_name_what_was_set() -> None:
    original, _ = _read("uv", "empty")
    assert UV.plan(SPEC, original, URL).changes == (
        Change("index", "url", None, URL, section_added=True, kind="entry"),
    )
    original, _ = _read("uv", "index-url")
    assert UV.plan(SPEC, original, URL).changes == (
        Change("", "index-url", "https://pypi.org/simple", URL, kind="root"),
        Change("pip", "index-url", "https://pypi.org/simple", URL),
    )
    original, _ = _read("uv", "default-index")
    assert UV.plan(SPEC, original, URL).changes == (
        Change("index", "url", "https://proxy.example.com/pypi/simple", URL, kind="entry"),
    )


def test_uv_current_follows_uv_precedence() -> None:
    both = 'index-url = "https://a.example/simple"\n[[index]]\nurl = "https://b.example/s"\n'
    assert UV.current(SPEC, both) == "https://a.example/simple"  # b is not the default
    assert UV.current(SPEC, both + "default = true\n") == "https://b.example/s"
    assert UV.current(SPEC, '[pip]\nindex-url = "https://c.example/s"\n') == "https://c.example/s"
    assert UV.current(SPEC, "") is None
    assert UV.current(SPEC, '[[index]]\nurl = "https://x.example/s"\n') is None


def test_uv_appends_to_an_inline_array_of_indexes() -> None:
    original = 'index = [\n  { name = "internal", url = "https://pkgs.example.com/simple" },\n]\n'
    edit = UV.plan(SPEC, original, URL)
    assert edit.text == (
        "index = [\n"
        '  { name = "internal", url = "https://pkgs.example.com/simple" },\n'
        f'  {{url = "{URL}", default = true}},\n'
        "]\n"
    )
    assert UV.current(SPEC, edit.text) == URL
    assert UV.revert(SPEC, edit.text, edit.changes) == original


def test_uv_removes_its_entry_even_if_the_user_named_it() -> None:
    """An [[index]] without its url is invalid for uv: the whole entry goes."""
    original = "native-tls = true\n"
    edit = UV.plan(SPEC, original, URL)
    edited = edit.text.replace("default = true", 'default = true\nname = "mirror"')
    assert UV.revert(SPEC, edited, edit.changes) == original


def test_uv_revert_keeps_a_default_the_user_dropped() -> None:
    original, _ = _read("uv", "settings-only")
    edit = UV.plan(SPEC, original, URL)
    edited = edit.text.replace("default = true", "default = false")
    assert UV.revert(SPEC, edited, edit.changes) == edited


def test_pdm_plain_http_mirror_gets_verify_ssl_off_and_loses_it_again() -> None:
    mirror = "http://10.1.2.3:8080/simple/"
    original, _ = _read("pdm", "settings-only")
    edit = PDM.plan(SPEC, original, mirror)
    assert edit.text == original + f'\n[pypi]\nurl = "{mirror}"\nverify_ssl = false\n'
    assert [(c.key, c.old, c.new) for c in edit.changes] == [
        ("url", None, mirror),
        ("verify_ssl", None, "false"),
    ]
    assert PDM.revert(SPEC, edit.text, edit.changes) == original

    original, _ = _read("pdm", "pypi-url")
    edit = PDM.plan(SPEC, original, mirror)
    assert edit.text == original.replace("https://proxy.example.com/simple", mirror).replace(
        "verify_ssl = true", "verify_ssl = false"
    )
    assert ("verify_ssl", "true", "false") in [(c.key, c.old, c.new) for c in edit.changes]
    assert PDM.revert(SPEC, edit.text, edit.changes) == original
    # switching on to an https mirror: revert first, and verify_ssl is true again
    back = PDM.revert(SPEC, edit.text, edit.changes)
    assert PDM.plan(SPEC, back, URL).text == _read("pdm", "pypi-url")[1]


@pytest.mark.parametrize("mirror", ["http://127.0.0.1:8080/simple/", "https://10.0.0.1/simple"])
def test_pdm_needs_no_verify_ssl_change_for_loopback_or_https(mirror: str) -> None:
    edit = PDM.plan(SPEC, "", mirror)
    assert edit.text == f'[pypi]\nurl = "{mirror}"\n'


def test_pdm_added_table_keeps_what_the_user_put_in_it() -> None:
    original = "check_update = false\n"
    edit = PDM.plan(SPEC, original, URL)
    edited = edit.text + "json_api = true\n"
    assert PDM.revert(SPEC, edited, edit.changes) == original + "\n[pypi]\njson_api = true\n"


def test_pdm_added_table_goes_when_user_edits_leave_it_empty() -> None:
    original = "check_update = false\n"
    edit = PDM.plan(SPEC, original, "http://10.1.2.3/simple")
    edited = edit.text.replace("verify_ssl = false\n", "")
    reverted = PDM.revert(SPEC, edited, edit.changes)
    assert "[pypi]" not in reverted
    assert reverted.startswith(original)


@pytest.mark.parametrize(
    "text",
    [
        'index-url = "unterminated\n',
        "[pip]\n[pip]\n",
        "a = 1\na = 2\n",
        "= 1\n",
    ],
)
@pytest.mark.parametrize("kind", ["uv", "pdm"])
def test_invalid_toml_is_a_one_line_parse_error(kind: str, text: str) -> None:
    target = TARGETS[kind]
    for call in (
        lambda: target.parse(text),
        lambda: target.plan(SPEC, text, URL),
        lambda: target.current(SPEC, text),
    ):
        with pytest.raises(ParseError) as info:
            call()
        message = str(info.value)
        assert message.startswith("invalid TOML")
        assert "\n" not in message
        assert "/nonexistent" not in message


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("uv", 'index = "https://x.example/simple"\n'),
        ("uv", "index-url = 3\n"),
        ("uv", 'pip = "x"\n'),
        ("uv", "[pip]\nindex-url = true\n"),
        ("pdm", 'pypi = "https://x.example/simple"\n'),
        ("pdm", "[pypi]\nurl = 1\n"),
    ],
)
def test_wrong_shapes_are_parse_errors(kind: str, text: str) -> None:
    with pytest.raises(ParseError):
        TARGETS[kind].parse(text)


# -- files, default_enabled, warnings ----------------------------------------------------
def _ctx(tmp_path: Path, environ: dict[str, str] | None = None, cwd: Path | None = None) -> Context:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    paths = Paths.for_place(Place.of(LINUX, {"HOME": str(home)}), cwd or tmp_path)
    return Context(paths=paths, settings=Settings(), environ=dict(environ or {}))


def test_files(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    home = ctx.paths.home
    assert UV.files(ctx) == [FileSpec(home / ".config" / "uv" / "uv.toml")]
    assert PDM.files(ctx) == [FileSpec(home / ".config" / "pdm" / "config.toml")]
    assert (UV.name, PDM.name) == ("uv", "pdm")


@pytest.mark.parametrize("kind", ["uv", "pdm"])
def test_default_enabled_when_on_path_or_configured(kind: str, tmp_path: Path) -> None:
    target = TARGETS[kind]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    assert not target.default_enabled(_ctx(tmp_path, {"PATH": str(bin_dir)}))
    exe = bin_dir / kind
    exe.write_text("#!/bin/sh\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    assert target.default_enabled(_ctx(tmp_path, {"PATH": str(bin_dir)}))
    exe.unlink()
    ctx = _ctx(tmp_path, {"PATH": str(bin_dir)})
    config = target.files(ctx)[0].path
    config.parent.mkdir(parents=True)
    config.write_text("")
    assert target.default_enabled(ctx)


def test_uv_warnings_for_the_environment(tmp_path: Path) -> None:
    ctx = _ctx(
        tmp_path,
        {
            "UV_DEFAULT_INDEX": "https://ci:s3cret@corp.example/simple",
            "UV_INDEX_URL": "https://a.example/simple",
            "UV_INDEX": "torch=https://download.pytorch.org/whl/cpu",
            "UV_NO_CONFIG": "1",
            "UV_CONFIG_FILE": "/etc/ci/uv.toml",
            "UV_CACHE_DIR": "/tmp/x",
        },
    )
    found = [safe(w) for w in UV.warnings(ctx)]  # as the user sees them
    assert found[0] == (
        "UV_DEFAULT_INDEX is set (https://***@corp.example/simple): "
        "uv uses it instead of the default index in ~/.config/uv/uv.toml"
    )
    assert not any("s3cret" in w for w in found)
    assert [w.split(" ", 1)[0] for w in found] == [
        "UV_DEFAULT_INDEX",
        "UV_INDEX_URL",
        "UV_INDEX",
        "UV_CONFIG_FILE",
        "UV_NO_CONFIG",
    ]
    assert "UV_NO_CONFIG is set: uv ignores ~/.config/uv/uv.toml" in found
    assert UV.warnings(_ctx(tmp_path)) == []


def test_uv_warns_about_project_config(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    sub = project / "src" / "pkg"
    sub.mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[[tool.uv.index]]\nurl = "https://corp.example/simple"\n'
        "default = true\n"
    )
    found = UV.warnings(_ctx(tmp_path, cwd=sub))
    assert found == [
        f"{project / 'pyproject.toml'} sets uv's default index: "
        "it wins over ~/.config/uv/uv.toml there"
    ]
    # a uv.toml beats the pyproject.toml next to it; extra indexes are only queried first
    (project / "uv.toml").write_text('[[index]]\nurl = "https://download.pytorch.org/whl"\n')
    assert UV.warnings(_ctx(tmp_path, cwd=sub)) == [
        f"{project / 'uv.toml'} adds indexes that uv queries before the default index "
        "in ~/.config/uv/uv.toml"
    ]
    (project / "uv.toml").write_text("native-tls = true\n")
    assert UV.warnings(_ctx(tmp_path, cwd=sub)) == []


def test_uv_pyproject_without_tool_uv_is_not_a_project_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert UV.warnings(_ctx(tmp_path)) == []


def test_uv_warns_about_pypi_left_as_an_extra_index(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    ctx.paths.uv_user.parent.mkdir(parents=True)
    ctx.paths.uv_user.write_text(
        'extra-index-url = ["https://pypi.org/simple"]\n\n'
        '[[index]]\nurl = "https://mirror.example/simple"\ndefault = true\n'
    )
    assert UV.warnings(ctx) == [
        "~/.config/uv/uv.toml still lists https://pypi.org/simple as an extra index: "
        "uv queries it before the default index and stops when it cannot reach it"
    ]


def test_pdm_warnings(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, {"PDM_PYPI_URL": "https://u:tok@corp.example/simple", "PDM_HOME": "x"})
    assert [safe(w) for w in PDM.warnings(ctx)] == [
        "PDM_PYPI_URL is set (https://***@corp.example/simple): "
        "pdm uses it instead of [pypi] url in ~/.config/pdm/config.toml"
    ]
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[[tool.pdm.source]]\nname = "pypi"\nurl = "https://corp.example/simple"\n'
    )
    (project / "pdm.toml").write_text('[pypi]\nurl = "https://corp.example/simple"\n')
    assert PDM.warnings(_ctx(tmp_path, cwd=project)) == [
        f"{project / 'pdm.toml'} sets [pypi] url: it wins over ~/.config/pdm/config.toml "
        "in that project",
        f'{project / "pyproject.toml"} defines a source named "pypi": it wins over '
        "~/.config/pdm/config.toml in that project",
    ]
    (project / "pdm.toml").write_text("[python]\nuse_venv = true\n")
    (project / "pyproject.toml").write_text(
        '[[tool.pdm.source]]\nname = "internal"\nurl = "https://corp.example/simple"\n'
    )
    assert PDM.warnings(_ctx(tmp_path, cwd=project)) == []


@pytest.mark.parametrize(
    ("kind", "original", "expected"),
    [
        # [pypi] implied by dotted keys only: a [pypi] header would be invalid there
        (
            "pdm",
            'pypi.internal.url = "https://pkgs.example.com/simple"\n',
            f'pypi.internal.url = "https://pkgs.example.com/simple"\npypi.url = "{URL}"\n',
        ),
        # out-of-order tables
        (
            "pdm",
            '[pypi]\nurl = "https://a.example/s"\n\n[other]\nx = 1\n\n[pypi.extra]\nurl = "e"\n',
            f'[pypi]\nurl = "{URL}"\n\n[other]\nx = 1\n\n[pypi.extra]\nurl = "e"\n',
        ),
        # quoting style kept
        ("uv", 'index-url = """https://a.example/s"""\n', f'index-url = """{URL}"""\n'),
        # a multi-line string that looks like an entry, with split [[index]] tables
        (
            "uv",
            'x = """\n[[index]]\nurl = "https://a/s"\ndefault = true\n"""\n'
            '[[index]]\nurl = "https://q/s"\n[y]\n[[index]]\nurl="https://b/s"\ndefault=true\n',
            'x = """\n[[index]]\nurl = "https://a/s"\ndefault = true\n"""\n'
            f'[[index]]\nurl = "https://q/s"\n[y]\n[[index]]\nurl="{URL}"\ndefault=true\n',
        ),
        # a default entry wins over a top-level index-url in uv: both are switched
        (
            "uv",
            "[pip]\nextra-index-url = [\n  'https://pkgs.example.com/simple',\n]\n"
            "index-url = 'https://p.example/s'\n",
            "[pip]\nextra-index-url = [\n  'https://pkgs.example.com/simple',\n]\n"
            f"index-url = '{URL}'\n\n[[index]]\nurl = \"{URL}\"\ndefault = true\n",
        ),
    ],
)
def test_odd_but_legal_files(kind: str, original: str, expected: str) -> None:
    target = TARGETS[kind]
    edit = target.plan(SPEC, original, URL)
    assert edit.text == expected
    assert target.current(SPEC, edit.text) == URL
    assert target.revert(SPEC, edit.text, edit.changes) == original
