"""The mirror catalogue: the shipped data, the user's additions, and `pypi-switch mirrors`."""

from __future__ import annotations

import json
import tomllib
from importlib import resources

import pytest

from pypi_switch.catalogue import builtin_mirrors, catalogue, mirrors_to_probe
from pypi_switch.config import Settings, load_settings, with_overrides
from pypi_switch.errors import SwitchError, UsageError
from tests.support.sandbox import Sandbox


def test_builtin_catalogue_is_https_unique_and_complete() -> None:
    mirrors = builtin_mirrors()
    names = [m.name for m in mirrors]
    assert len(names) == len(set(names))
    assert all(m.url.startswith("https://") for m in mirrors)
    assert all(m.source == "built-in" and m.country and m.operator for m in mirrors)
    assert {"tuna", "ustc", "aliyun", "tencent", "huawei", "baidu", "runflare"} <= set(names)
    hosts = " ".join(m.url for m in mirrors)
    for dead in ("jlu.edu.cn", "douban", "pypi.python.org"):
        assert dead not in hosts
    raw = tomllib.loads(resources.files("pypi_switch").joinpath("mirrors.toml").read_text())
    for item in raw["mirror"]:
        assert set(item) == {"name", "url", "country", "operator", "notes"}


def test_user_entries_add_replace_and_disable(sandbox: Sandbox) -> None:
    path = sandbox.write_config(
        'disabled = ["baidu", "corp-old"]\n'
        "[[mirror]]\n"
        'name = "corp"\n'
        'url = "https://devpi.corp.example/root/pypi/+simple/"\n'
        "[[mirror]]\n"
        'name = "tuna"\n'
        'url = "https://tuna.example/simple/"\n'
        "[[mirror]]\n"
        'name = "corp-old"\n'
        'url = "https://old.corp.example/simple/"\n'
    )
    entries = {(e.mirror.name, e.mirror.source): e for e in catalogue(load_settings(path))}
    assert not entries[("baidu", "built-in")].enabled
    assert "disabled" in entries[("baidu", "built-in")].off_reason
    assert not entries[("tuna", "built-in")].enabled
    assert entries[("tuna", str(path))].enabled
    assert entries[("corp", str(path))].enabled
    assert not entries[("corp-old", str(path))].enabled
    probed = [m.name for m in mirrors_to_probe(load_settings(path))]
    assert "corp" in probed and "baidu" not in probed and "corp-old" not in probed
    assert probed.count("tuna") == 1


def test_builtin_mirrors_can_be_turned_off(sandbox: Sandbox) -> None:
    path = sandbox.write_config(
        'builtin_mirrors = false\n[[mirror]]\nname = "mine"\nurl = "https://m.example/simple"\n'
    )
    assert [m.name for m in mirrors_to_probe(load_settings(path))] == ["mine"]
    with pytest.raises(SwitchError, match="no mirror to probe"):
        mirrors_to_probe(Settings(builtin_mirrors=False))


def test_explicit_urls_are_named_after_their_host() -> None:
    got = mirrors_to_probe(
        Settings(),
        [
            "http://127.0.0.1:8080/simple/",
            "https://PyPI.Tuna.Tsinghua.edu.cn/simple/",
            "http://127.0.0.1:8080/other/simple/",
        ],
    )
    assert [m.name for m in got] == ["127.0.0.1:8080", "tuna", "127.0.0.1:8080-2"]
    assert all(m.source == "command line" for m in got)
    with pytest.raises(UsageError, match="--mirror"):
        mirrors_to_probe(Settings(), ["ftp://x/simple"])


def test_command_line_overrides_are_checked() -> None:
    s = with_overrides(Settings(), timeout=2, canary="canary-pkg", upstream="http://127.0.0.1:1/")
    assert (s.timeout, s.canary, s.upstream) == (2.0, "canary-pkg", "http://127.0.0.1:1/")
    with pytest.raises(UsageError, match="--timeout"):
        with_overrides(Settings(), timeout=0)
    with pytest.raises(UsageError, match="--canary"):
        with_overrides(Settings(), canary="no spaces")
    with pytest.raises(UsageError, match="--upstream"):
        with_overrides(Settings(), upstream="file:///x")


def test_mirrors_command_lists_sources(sandbox: Sandbox) -> None:
    path = sandbox.write_config(
        'disabled = ["kakao"]\n[[mirror]]\nname = "corp"\nurl = "https://bob:s3cret@corp.example/simple/"\n'
    )
    out = sandbox.run("mirrors", "--json")
    assert out.returncode == 0, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["tuna"]["source"] == "built-in" and rows["tuna"]["enabled"]
    assert rows["kakao"]["enabled"] is False
    assert rows["corp"]["source"] == str(path)
    assert "s3cret" not in out.stdout
    text = sandbox.run("mirrors")
    assert text.returncode == 0
    assert "[built-in]" in text.stdout and f"[{path}]" in text.stdout
    assert "s3cret" not in text.stdout


def test_malformed_config_names_file_and_line(sandbox: Sandbox) -> None:
    path = sandbox.write_config('canary = "pip"\ntimeout = "fast"\n')
    out = sandbox.run("mirrors")
    assert out.returncode == 1
    assert f"{path}, line 2" in out.stderr
    out = sandbox.run("probe", "--mirror", "http://127.0.0.1:1/simple/")
    assert out.returncode == 1 and f"{path}, line 2" in out.stderr


@pytest.mark.parametrize(
    ("second", "line", "problem"),
    [
        ('name = "b"\nurl = "ftp://x.example/simple"', 7, "url: not an http(s) URL"),
        ('name = "b"\nurl = "https://b.example/simple"\ncolour = "red"', 8, "unknown key 'colour'"),
        ('name = "b"', 5, "mirror 'b' needs a url"),
        ('name = "a"\nurl = "https://b.example/simple"', 6, "two [[mirror]] entries are named 'a'"),
    ],
)
def test_a_bad_mirror_entry_is_reported_at_its_own_line(
    sandbox: Sandbox, second: str, line: int, problem: str
) -> None:
    # The first entry is fine; the second one, from line 5, has the fault.
    path = sandbox.write_config(
        "builtin_mirrors = false\n"
        '[[mirror]]\nname = "a"\nurl = "https://a.example/simple"\n'
        f"[[mirror]]\n{second}\n"
    )
    out = sandbox.run("mirrors")
    assert out.returncode == 1
    assert out.stderr.startswith(f"pypi-switch: error: {path}, line {line}: "), out.stderr
    assert problem in out.stderr
