"""Reading what a project needs from its requirements and lock files.

The files under ``fixtures/locks/`` were written by the real tools (uv, pdm, poetry,
pipenv, pip-compile, pip freeze, pip lock) for one small project pinned the same way
everywhere: see ``fixtures/locks/regenerate.sh``. Edge cases the tools do not produce
on demand are written inline.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from pypi_switch.errors import UsageError
from pypi_switch.lockfiles import FORMATS, Needs, Pin, find_lock_files, read_needs, read_one

LOCKS = Path(__file__).resolve().parent.parent / "fixtures" / "locks"

PYPI = "https://pypi.org/simple"
SIX_WHEEL = "six-1.17.0-py2.py3-none-any.whl"
SIX_WHEEL_SHA = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"
SIX_SDIST = "six-1.17.0.tar.gz"
SIX_SDIST_SHA = "ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81"

# The project's pins, resolved the same by every tool (colorama only on Windows).
COMMON = [
    "certifi==2025.1.31",
    "charset-normalizer==3.4.1",
    "idna==3.10",
    "pysocks==1.7.1",
    "requests==2.32.3",
    "six==1.17.0",
    "urllib3==2.3.0",
]
UNIVERSAL = sorted([*COMMON, "colorama==0.4.6"])


def labels(needs: Needs) -> list[str]:
    return [p.label for p in needs.pins]


def pin(needs: Needs, name: str) -> Pin:
    return next(p for p in needs.pins if p.name == name)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


# -- the real tools' files ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected", "skipped"),
    [
        ("uv.lock", UNIVERSAL, ("localpkg (editable)",)),
        ("pylock.toml", UNIVERSAL, ("localpkg (directory)",)),
        ("pylock.pdm.toml", UNIVERSAL, ("localpkg (directory)",)),
        ("pylock.pip.toml", COMMON, ("localpkg (directory)",)),
        ("pdm.lock", UNIVERSAL, ("localpkg (path)",)),
        ("poetry.lock", UNIVERSAL, ("localpkg (directory)",)),
        ("Pipfile.lock", sorted([*UNIVERSAL, "iniconfig==2.0.0"]), ("localpkg (path)",)),
        ("requirements-uv.txt", UNIVERSAL, ("./localpkg (editable)",)),
        ("requirements-compiled.txt", COMMON, ("./localpkg (editable)",)),
        ("requirements-compiled-nohash.txt", COMMON, ("./localpkg (editable)",)),
    ],
)
def test_every_tool_s_file_yields_the_project_s_pins(
    filename: str, expected: list[str], skipped: tuple[str, ...]
) -> None:
    needs = read_one(LOCKS / filename)
    assert labels(needs) == expected
    assert needs.names == ()
    assert needs.skipped == skipped
    assert needs.sources == (LOCKS / filename,)


def test_pip_freeze_output_yields_the_pins_and_sets_the_editable_install_aside() -> None:
    needs = read_one(LOCKS / "requirements-freeze.txt")
    assert labels(needs) == COMMON
    (editable,) = needs.skipped
    assert editable.endswith("/pipc/localpkg (editable)")
    assert all(not p.files and not p.hashes for p in needs.pins)


@pytest.mark.parametrize("filename", ["uv.lock", "pylock.toml", "pdm.lock", "poetry.lock"])
def test_lock_files_record_the_sha256_of_each_file_by_name(filename: str) -> None:
    six = pin(read_one(LOCKS / filename), "six")
    assert six.files == {SIX_WHEEL: SIX_WHEEL_SHA, SIX_SDIST: SIX_SDIST_SHA}
    assert six.hashes == frozenset()


def test_pip_lock_records_only_the_wheel_it_would_install() -> None:
    assert pin(read_one(LOCKS / "pylock.pip.toml"), "six").files == {SIX_WHEEL: SIX_WHEEL_SHA}


@pytest.mark.parametrize(
    "filename", ["Pipfile.lock", "requirements-compiled.txt", "requirements-uv.txt"]
)
def test_hashes_without_file_names_are_kept_as_a_set(filename: str) -> None:
    six = pin(read_one(LOCKS / filename), "six")
    assert six.hashes == {SIX_WHEEL_SHA, SIX_SDIST_SHA}
    assert six.files == {}


def test_pip_compile_hashes_span_continuation_lines() -> None:
    needs = read_one(LOCKS / "requirements-compiled.txt")
    assert len(pin(needs, "charset-normalizer").hashes) == 92
    assert sum(len(p.hashes) for p in needs.pins) == 105


@pytest.mark.parametrize(
    ("filename", "index"),
    [
        ("uv.lock", PYPI),
        ("pylock.toml", PYPI),
        ("poetry.lock", PYPI),  # poetry drops the final slash
        ("pdm.lock", None),
        ("pylock.pip.toml", None),
        ("requirements-compiled.txt", None),
    ],
)
def test_the_index_a_lock_names_is_kept(filename: str, index: str | None) -> None:
    assert {p.index for p in read_one(LOCKS / filename).pins} == {index}


def test_pipfile_lock_maps_each_entry_s_index_name_to_its_url() -> None:
    needs = read_one(LOCKS / "Pipfile.lock")
    assert pin(needs, "six").index == PYPI
    assert pin(needs, "requests").index is None  # pipenv wrote no "index" for it


def test_every_file_names_the_same_digests_where_they_overlap() -> None:
    by_name: dict[str, set[str]] = {}
    for path in LOCKS.iterdir():
        if path.suffix == ".sh":
            continue
        for p in read_one(path).pins:
            by_name.setdefault(p.label, set()).update(p.files.values(), p.hashes)
    uv = read_one(LOCKS / "uv.lock")
    for p in uv.pins:
        assert set(p.files.values()) <= by_name[p.label]


# -- requirements files: pip's own reading rules ----------------------------------------


def test_requirements_comments_continuations_markers_extras_and_options(tmp_path: Path) -> None:
    path = write(
        tmp_path / "requirements.txt",
        r"""
        # a comment
        --index-url https://mirror.example/simple
        --extra-index-url https://extra.example/simple
        -f https://wheels.example/
        --pre
        Django==4.2.7 \
            --hash=sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA \
            --hash=md5:0123
            # via -r requirements.in
        requests[socks] == 2.32.3 ; python_version >= "3.8"  # pinned
        Zope.Interface===5.0
        attrs>=23
        tomli; python_version < "3.11"
        numpy==1.*
        PyYAML==6.0.1 --hash sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
        -e git+https://github.com/x/y.git#egg=y
        --editable=./src/z
        ./vendored/pkg-1.0-py3-none-any.whl
        https://example.com/a-1.0.tar.gz
        foo @ https://example.com/foo-1.0.tar.gz
        """,
    )
    needs = read_one(path)
    assert labels(needs) == [
        "django==4.2.7",
        "pyyaml==6.0.1",
        "requests==2.32.3",
        "zope-interface==5.0",
    ]
    assert pin(needs, "django").hashes == {"a" * 64}  # md5 says nothing here
    assert pin(needs, "pyyaml").hashes == {"b" * 64}
    assert needs.names == ("attrs", "numpy", "tomli")
    assert needs.skipped == (
        "git+https://github.com/x/y.git#egg=y (editable)",
        "./src/z (editable)",
        "./vendored/pkg-1.0-py3-none-any.whl (a path or URL)",
        "https://example.com/a-1.0.tar.gz (a path or URL)",
        "foo @ https://example.com/foo-1.0.tar.gz (a direct URL)",
    )
    assert {p.index for p in needs.pins} == {"https://mirror.example/simple"}


def test_requirements_with_crlf_a_bom_and_tabs(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    digest = b"c" * 64
    path.write_bytes(b"\xef\xbb\xbfsix==1.17.0\t\\\r\n\t--hash=sha256:" + digest + b"\r\nidna\r\n")
    needs = read_one(path)
    assert labels(needs) == ["six==1.17.0"]
    assert pin(needs, "six").hashes == {"c" * 64}
    assert needs.names == ("idna",)


def test_requirements_includes_are_followed_relative_to_the_including_file(
    tmp_path: Path,
) -> None:
    write(tmp_path / "reqs" / "base.txt", "six==1.17.0\n-r ../reqs/dev.txt\n")
    write(tmp_path / "reqs" / "dev.txt", "pytest==8.0.0\n-r base.txt\n")  # a cycle
    top = write(tmp_path / "requirements.txt", "--requirement=reqs/base.txt\n-c constraints.txt\n")
    needs = read_one(top)
    assert labels(needs) == ["pytest==8.0.0", "six==1.17.0"]
    assert needs.sources == (top, tmp_path / "reqs" / "base.txt", tmp_path / "reqs" / "dev.txt")


def test_a_pin_also_listed_unpinned_is_a_pin(tmp_path: Path) -> None:
    needs = read_one(write(tmp_path / "requirements.txt", "six\nsix==1.17.0\n"))
    assert labels(needs) == ["six==1.17.0"]
    assert needs.names == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("six==1.17.0\nthis is not a requirement\n", "line 2: not a requirement: "),
        ("six==1.0 --hash=sha256:abc\n", "line 1: not a sha256 digest: 'abc'"),
        ("-r missing.txt\n", "line 1: -r missing.txt: no such file"),
        ("-r https://x.example/r.txt\n", "line 1: -r https://x.example/r.txt: only local files"),
    ],
)
def test_a_broken_requirements_file_is_a_usage_error_with_its_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path / "requirements.txt", text)
    with pytest.raises(UsageError) as err:
        read_one(path)
    assert err.value.message.startswith(f"{path}, {message}")


# -- lock files: shapes the tools write besides the fixtures ------------------------------


TORCH_URL = "https://download.pytorch.org/whl/cpu/torch-2.9.0%2Bcpu-cp311-cp311-linux_x86_64.whl"


def test_uv_lock_sets_aside_everything_not_from_a_registry(tmp_path: Path) -> None:
    sha = "d" * 64
    path = write(
        tmp_path / "uv.lock",
        f"""
        version = 1
        [[package]]
        name = "demo"
        version = "0.1.0"
        source = {{ virtual = "." }}
        [[package]]
        name = "gitdep"
        version = "1.0"
        source = {{ git = "https://github.com/x/gitdep?rev=main#abc" }}
        [[package]]
        name = "Torch"
        version = "2.9.0+cpu"
        source = {{ registry = "https://download.pytorch.org/whl/cpu" }}
        wheels = [
            {{ url = "{TORCH_URL}", hash = "sha256:{sha}" }},
        ]
        [[package]]
        name = "local-wheels"
        version = "1.0"
        source = {{ registry = "../wheels" }}
        wheels = [{{ path = "local_wheels-1.0-py3-none-any.whl", hash = "sha256:{sha}" }}]
        """,
    )
    needs = read_one(path)
    assert labels(needs) == ["local-wheels==1.0", "torch==2.9.0+cpu"]
    torch = pin(needs, "torch")
    assert torch.files == {"torch-2.9.0+cpu-cp311-cp311-linux_x86_64.whl": sha}
    assert torch.index == "https://download.pytorch.org/whl/cpu"
    assert pin(needs, "local-wheels").files == {"local_wheels-1.0-py3-none-any.whl": sha}
    assert needs.skipped == ("gitdep (git)",)


def test_poetry_1_lock_keeps_its_files_under_metadata(tmp_path: Path) -> None:
    path = write(
        tmp_path / "poetry.lock",
        f"""
        [[package]]
        name = "six"
        version = "1.17.0"
        description = ""
        category = "main"
        optional = false
        python-versions = "*"

        [metadata]
        lock-version = "1.1"
        python-versions = "^3.8"
        content-hash = "abc"

        [metadata.files]
        six = [
            {{file = "{SIX_WHEEL}", hash = "sha256:{SIX_WHEEL_SHA}"}},
        ]
        """,
    )
    assert read_one(path).pins == (Pin("six", "1.17.0", files={SIX_WHEEL: SIX_WHEEL_SHA}),)


def test_pdm_lock_with_static_urls_names_files_by_their_url(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pdm.lock",
        f"""
        [metadata]
        lock_version = "4.5.0"
        [[package]]
        name = "six"
        version = "1.17.0"
        files = [
            {{url = "https://files.example/packages/{SIX_WHEEL}", hash = "sha256:{SIX_WHEEL_SHA}"}},
        ]
        [[package]]
        name = "mine"
        version = "0.1"
        editable = true
        """,
    )
    needs = read_one(path)
    assert needs.pins == (Pin("six", "1.17.0", files={SIX_WHEEL: SIX_WHEEL_SHA}),)
    assert needs.skipped == ("mine (editable)",)


def test_pylock_without_a_version_takes_it_from_the_file_name(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pylock.dev.toml",
        f"""
        lock-version = "1.0"
        created-by = "hand"
        [[packages]]
        name = "six"
        wheels = [{{ url = "https://x/{SIX_WHEEL}", hashes = {{ sha256 = "{SIX_WHEEL_SHA}" }} }}]
        [[packages]]
        name = "nofiles"
        [[packages]]
        name = "vcsdep"
        vcs = {{ type = "git", url = "https://x/y", commit-id = "abc" }}
        """,
    )
    needs = read_one(path)
    assert labels(needs) == ["six==1.17.0"]
    assert needs.names == ("nofiles",)
    assert needs.skipped == ("vcsdep (vcs)",)


def test_pipfile_lock_categories_and_non_index_entries(tmp_path: Path) -> None:
    path = tmp_path / "Pipfile.lock"
    lock = {
        "_meta": {"sources": [{"name": "corp", "url": "https://corp.example/simple"}]},
        "default": {
            "six": {
                "version": "==1.17.0",
                "index": "corp",
                "hashes": [f"sha256:{SIX_WHEEL_SHA}", "md5:abc"],
            },
            "loose": {"version": "*"},
            "vcs": {"git": "https://x/y.git", "ref": "abc"},
        },
        "docs": {"sphinx": {"version": "===7.0"}},
    }
    path.write_text(json.dumps(lock))
    needs = read_one(path)
    assert needs.pins == (
        Pin(
            "six", "1.17.0", hashes=frozenset({SIX_WHEEL_SHA}), index="https://corp.example/simple"
        ),
        Pin("sphinx", "7.0"),
    )
    assert needs.names == ("loose",)
    assert needs.skipped == ("vcs (git)",)


# -- recognising the file -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "renamed"),
    [
        ("uv.lock", "my.lock"),
        ("poetry.lock", "poetry-copy.lock"),
        ("pdm.lock", "pdm-old.lock"),
        ("pylock.toml", "locked.toml"),
        ("Pipfile.lock", "Pipfile.lock.json"),
    ],
)
def test_a_renamed_lock_file_is_recognised_by_its_content(
    tmp_path: Path, source: str, renamed: str
) -> None:
    copy = tmp_path / renamed
    copy.write_bytes((LOCKS / source).read_bytes())
    assert read_one(copy).pins == read_one(LOCKS / source).pins


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("setup.cfg", "[metadata]\nname = x\n", "not a requirements or lock file this tool reads"),
        ("notes.md", "six==1.17.0\n", "not a requirements or lock file this tool reads"),
        ("data.json", '{"a": 1}', "not a requirements or lock file this tool reads"),
        ("uv.lock", "version = [", "not valid TOML"),
        ("Pipfile.lock", "{", "not valid JSON"),
        ("uv.lock", "version = 1\npackage = 3\n", "not a valid uv.lock file"),
        ("poetry.lock", '[[package]]\nname = "six"\n', "not a valid poetry.lock file"),
        ("pylock.toml", "[[packages]]\nname = 'six'\n", "not a valid pylock.toml file"),
    ],
)
def test_a_file_that_is_none_of_these_is_a_usage_error_naming_it(
    tmp_path: Path, name: str, content: str, problem: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(UsageError) as err:
        read_one(path)
    assert err.value.message.startswith(f"{path}: {problem}")
    assert err.value.exit_code == 2


def test_the_usage_error_lists_what_is_supported(tmp_path: Path) -> None:
    path = tmp_path / "setup.py"
    path.write_text("print()\n")
    with pytest.raises(UsageError) as err:
        read_one(path)
    expected = f"{path}: not a requirements or lock file this tool reads ({FORMATS})"
    assert err.value.message == expected


def test_binary_and_missing_files_are_usage_errors(tmp_path: Path) -> None:
    binary = tmp_path / "uv.lock"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UsageError, match="not UTF-8 text"):
        read_one(binary)
    with pytest.raises(UsageError) as err:
        read_one(tmp_path / "nope.txt")
    assert err.value.message == f"{tmp_path / 'nope.txt'}: no such file"


# -- directories and several files ------------------------------------------------------------


def test_a_directory_stands_for_the_lock_files_in_it(tmp_path: Path) -> None:
    for name in ("uv.lock", "requirements-compiled.txt", "pylock.toml"):
        (tmp_path / name).write_bytes((LOCKS / name).read_bytes())
    (tmp_path / "notes.txt").write_text("not requirements\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    assert find_lock_files(tmp_path) == (
        tmp_path / "pylock.toml",
        tmp_path / "requirements-compiled.txt",
        tmp_path / "uv.lock",
    )
    needs = read_needs([tmp_path])
    assert labels(needs) == UNIVERSAL
    # The digests recorded by name and those recorded without one are both kept.
    six = pin(needs, "six")
    assert six.files == {SIX_WHEEL: SIX_WHEEL_SHA, SIX_SDIST: SIX_SDIST_SHA}
    assert six.hashes == {SIX_WHEEL_SHA, SIX_SDIST_SHA}


def test_a_directory_without_lock_files_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        read_needs([tmp_path])
    assert err.value.message == f"{tmp_path}: holds no requirements or lock file ({FORMATS})"


def test_several_files_merge_pins_names_and_sources(tmp_path: Path) -> None:
    a = write(tmp_path / "a" / "requirements.txt", "six==1.17.0\nattrs\n")
    b = write(tmp_path / "b" / "requirements.txt", "six==1.17\nidna==3.10\nattrs==23.1\n")
    needs = read_needs([a, b])
    # 1.17 and 1.17.0 are the same version (PEP 440): one pin, as first written.
    assert labels(needs) == ["attrs==23.1", "idna==3.10", "six==1.17.0"]
    assert needs.names == ()
    assert needs.sources == (a, b)
    assert needs.projects == ("attrs", "idna", "six")
