"""A project's simple page, PEP 691 JSON or PEP 503 HTML, read in one place.

Parsed with the standard library (``json``, ``html.parser``) rather than pypi-simple:
pypi-simple imports pydantic, bs4 and soupsieve, about 150 ms on the critical path of
``use-mirror`` after the page has arrived, which alone would take it past its start-up
target (2.0x ``status``); these two parsers cost a few milliseconds to import. pypi-simple
did not read the ``<!--SERIAL n-->`` comment either.

Hostile pages are expected: every way a page can be wrong becomes a ``PageError`` with a
reason in words, never an exception from the parser.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

if TYPE_CHECKING:
    from pypi_switch.net.transport import Response

__all__ = ["JSON_TYPE", "DistFile", "PageError", "ProjectPage", "page_of", "page_url", "parse_page"]

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPES = ("text/html", "application/vnd.pypi.simple.v1+html")
# PyPI's serial is in the tens of millions; more digits than a 64-bit counter holds is no
# serial (and int() refuses more than 4,300 digits anyway).
MAX_SERIAL_DIGITS = 18
_SERIAL_COMMENT = re.compile(rb"<!--\s*SERIAL\s+(\d+)\s*-->")
_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar")


# filename, absolute URL, sha256 ("" when none), size in bytes (None when not said)
_Link = tuple[str, str, str, int | None]


class PageError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DistFile:
    filename: str
    url: str  # absolute, fragment removed
    sha256: str | None  # lower-case hex
    version: str | None  # as spelled in the file name
    size: int | None = None  # bytes, where the page says (PEP 700 JSON); HTML never does


@dataclass(frozen=True)
class ProjectPage:
    project: str  # the canonical (PEP 503) name asked for
    format: str  # "json" or "html"
    serial: int | None  # the project's serial, when the page or its headers tell it
    files: tuple[DistFile, ...]  # the project's files (others listed on the page are left out)

    @property
    def digests(self) -> dict[str, str]:
        """filename -> sha256, for the files that have one."""
        return {f.filename: f.sha256 for f in self.files if f.sha256}

    @property
    def newest_version(self) -> str | None:
        best: tuple[Version, str] | None = None
        for spelled in {f.version for f in self.files if f.version}:
            try:
                parsed = Version(spelled)
            except InvalidVersion:
                continue
            if best is None or parsed > best[0]:
                best = (parsed, spelled)
        return best[1] if best else None


def page_url(index_url: str, project: str) -> str:
    """PEP 503: the project page lives at the normalised name, with a final slash."""
    return f"{index_url.rstrip('/')}/{canonicalize_name(project)}/"


def page_of(got: Response, project: str) -> ProjectPage:
    """The ``project`` page an answer carries (its serial from the page or its header);
    PageError, worded like "404 for /simple/x/", when it carries none."""
    if got.status != 200:
        raise PageError(f"{got.status} for {urlsplit(got.url).path or '/'}")
    return parse_page(
        got.body,
        content_type=got.headers.get("content-type"),
        url=got.url,
        project=project,
        serial_header=got.headers.get("x-pypi-last-serial"),
    )


def parse_page(
    body: bytes,
    *,
    content_type: str | None,
    url: str,
    project: str,
    serial_header: str | None = None,
) -> ProjectPage:
    """The files of ``project`` on the page at ``url``; at least one must carry a sha256.

    ``serial_header``: the ``X-PyPI-Last-Serial`` header, used when the page has no serial.
    """
    raw_type = content_type or "text/html"
    kind = raw_type.split(";")[0].strip().lower()
    wanted = canonicalize_name(project)
    if kind == JSON_TYPE:
        links, serial = _from_json(body, url, wanted, project)
        page_format = "json"
    elif kind in HTML_TYPES:
        links, page_format = _from_html(body, raw_type, url, project), "html"
        m = _SERIAL_COMMENT.search(body)
        serial = _serial(m.group(1).decode()) if m else None
    else:
        raise PageError(f"unexpected content type {kind!r}")
    if serial is None and serial_header is not None and serial_header.strip().isdigit():
        serial = _serial(serial_header.strip())
    files = []
    for filename, link, sha, file_size in links:
        named = _name_and_version(filename)
        if named is None or canonicalize_name(named[0]) != wanted:
            continue  # not a file of this project
        files.append(DistFile(filename, link, sha.lower() if sha else None, named[1], file_size))
    page = ProjectPage(wanted, page_format, serial, tuple(files))
    if not page.digests:
        raise PageError(f"not a simple page: no file of {project} with a sha256 digest")
    return page


# -- PEP 691 JSON ---------------------------------------------------------------------------


class _Huge:
    """An integer literal too long to be anything we read (see ``MAX_SERIAL_DIGITS``)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _int_or_huge(text: str) -> int | _Huge:
    digits = len(text.lstrip("-"))
    return _Huge(digits) if digits > MAX_SERIAL_DIGITS else int(text)


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body, parse_int=_int_or_huge)
    except RecursionError:
        raise PageError("the JSON page is nested too deeply") from None
    except ValueError:  # includes UnicodeDecodeError
        raise PageError("the JSON page is not valid JSON") from None


def _from_json(body: bytes, url: str, wanted: str, project: str) -> tuple[list[_Link], int | None]:
    data = _load_json(body)

    def schema(problem: str) -> PageError:
        return PageError(f"the JSON page does not follow PEP 691 ({problem})")

    if not isinstance(data, dict):
        raise schema("not a JSON object")
    meta = data.get("meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("api-version"), str):
        raise schema("no meta.api-version")
    if meta["api-version"].split(".")[0] != "1":
        raise schema(f"api-version {meta['api-version'][:20]!r} is not 1.x")
    name = data.get("name")
    if not isinstance(name, str):
        raise schema("no project name")
    if canonicalize_name(name) != wanted:
        raise PageError(f"the JSON page is for {name[:100]!r}, not {project!r}")
    files = data.get("files")
    if not isinstance(files, list):
        raise schema("no list of files")
    links: list[_Link] = []
    for entry in files:
        if not isinstance(entry, dict):
            raise schema("a file entry is not an object")
        filename, link, hashes = entry.get("filename"), entry.get("url"), entry.get("hashes")
        if not isinstance(filename, str) or not isinstance(link, str):
            raise schema("a file entry has no filename or url")
        if not isinstance(hashes, dict):
            raise schema(f"{filename[:100]} has no hashes")
        sha = hashes.get("sha256")
        try:
            absolute = urljoin(url, link)
        except ValueError:
            continue  # a link no client could follow
        size = entry.get("size")
        size = size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None
        links.append((filename, absolute, sha if isinstance(sha, str) else "", size))
    return links, _json_serial(meta.get("_last-serial"))


def _json_serial(value: object) -> int | None:
    if isinstance(value, _Huge):
        raise PageError(f"the page's serial is implausible ({value.digits} digits)")
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return _serial(value.strip())
    return None


def _serial(digits: str) -> int:
    if len(digits) > MAX_SERIAL_DIGITS:
        raise PageError(f"the page's serial is implausible ({len(digits)} digits)")
    return int(digits)


# -- PEP 503 HTML ---------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)
        elif tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")


def _from_html(body: bytes, raw_type: str, url: str, project: str) -> list[_Link]:
    # A page without a single link cannot list files: say so plainly.
    if b"<a" not in body.lower():
        raise PageError(f"not a simple page: the HTML lists no files of {project}")
    charset = re.search(r"charset=[\"']?([\w-]+)", raw_type)
    try:
        text = body.decode(charset.group(1) if charset else "utf-8", errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    parser = _Links()
    try:
        parser.feed(text)
        parser.close()
    except Exception as exc:  # html.parser is lenient; this is belt and braces
        raise PageError(f"the HTML page cannot be parsed ({type(exc).__name__})") from None
    base = urljoin(url, parser.base) if parser.base else url
    links: list[_Link] = []
    for href in parser.hrefs:
        try:
            absolute = urljoin(base, href)
            parts = urlsplit(absolute)
        except ValueError:
            continue  # a link no client could follow
        filename = unquote(parts.path.rsplit("/", 1)[-1])
        fragment = parts.fragment
        sha = fragment[len("sha256=") :] if fragment.startswith("sha256=") else ""
        links.append((filename, absolute.split("#", 1)[0], sha, None))
    return links


def _name_and_version(filename: str) -> tuple[str, str] | None:
    """The project and version a distribution's file name spells, or None."""
    if filename.endswith((".whl", ".egg")):
        parts = filename[:-4].split("-")
        return (parts[0], parts[1]) if len(parts) >= 2 and parts[0] else None
    for suffix in _SDIST_SUFFIXES:
        if filename.endswith(suffix):
            name, dash, version = filename[: -len(suffix)].rpartition("-")
            return (name, version) if dash and name and version else None
    return None
