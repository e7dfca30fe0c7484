"""Index URLs: validation, comparison, and hiding the credentials they may carry."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from pypi_switch.errors import SwitchError

__all__ = [
    "host_of",
    "is_loopback",
    "is_pypi",
    "needs_trusted_host",
    "redact",
    "same_index",
    "validate_index_url",
]

# The whole userinfo goes: a token is often the user part alone (``https://TOKEN@host``,
# Gemfury's ``https://TOKEN:@host``), and a password may hold an unencoded ``@`` (the
# authority ends at the first ``/``, ``?`` or ``#``, so the last ``@`` before it counts).
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\s]*@")
# Query parameters that carry secrets by name (``?token=``, ``access_token``, ``api_key``,
# signed-URL signatures...).
_SECRET_QUERY = re.compile(
    r"(?P<name>[?&;][^=&#\s]*(?:token|key|secret|passw|pwd|auth|sig|credential)[^=&#\s]*=)"
    r"[^&#;\s]+",
    re.IGNORECASE,
)


def validate_index_url(raw: str) -> str:
    """Return the URL stripped of blanks, or raise with a one-line reason."""
    url = raw.strip()
    shown = redact(url)
    if not url:
        raise SwitchError("the mirror URL is empty")
    if any(ch.isspace() for ch in url):
        raise SwitchError(f"not a valid index URL (contains a space): {shown!r}")
    odd = next((ch for ch in url if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")), None)
    if odd is not None:
        # Escape characters or zero-width ones: no client can use that URL, and it may be
        # meant to look like another one.
        raise SwitchError(
            f"not a valid index URL (contains the invisible character U+{ord(odd):04X})"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SwitchError(f"not a valid index URL ({exc}): {shown}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise SwitchError(f"not an http(s) URL: {shown}")
    if not parts.hostname:
        raise SwitchError(f"the URL has no host: {shown}")
    if port == 0:
        raise SwitchError(f"the URL has port 0: {shown}")
    return url


def redact(text: str) -> str:
    """Hide every credential of every URL in ``text``: the whole userinfo
    (``https://***@host/``) and secret-looking query values (``?token=***``)."""
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}***@", text)
    return _SECRET_QUERY.sub(lambda m: f"{m.group('name')}***", text)


def _normal(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url.strip())
    netloc = parts.netloc.lower()
    for default in (":443", ":80"):
        if (
            netloc.endswith(default)
            and parts.scheme.lower() == {":443": "https", ":80": "http"}[default]
        ):
            netloc = netloc[: -len(default)]
    return parts.scheme.lower(), netloc, parts.path.rstrip("/")


def same_index(a: str | None, b: str | None) -> bool:
    """Two index URLs name the same index (case of host, default port, final slash aside)."""
    if a is None or b is None:
        return False
    return _normal(a) == _normal(b)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def needs_trusted_host(url: str) -> bool:
    """pip refuses plain http to any host but loopback unless told the host is trusted."""
    return urlsplit(url).scheme.lower() == "http" and not is_loopback(host_of(url))


def is_pypi(url: str) -> bool:
    return host_of(url) in ("pypi.org", "pypi.python.org", "files.pythonhosted.org")
