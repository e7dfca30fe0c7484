"""Which TLS certificates are trusted: what pip trusts, so a mirror pip can use is not
called "untrusted" (behind a TLS-inspecting proxy, for instance).

pip 24.2+ verifies with the operating system's store (through truststore) plus certifi,
and adds the bundle named by ``--cert``/``PIP_CERT``/pip.conf ``cert``; requests adds
``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``; OpenSSL reads ``SSL_CERT_FILE``/``SSL_CERT_DIR``.
Here every bundle so named is trusted beside the system store and certifi.

Why not one shared ``truststore.SSLContext``: it holds one lock over every handshake made
with it, network wait included, so a single mirror that accepts TCP and never answers the
TLS hello stalls every other https probe until its timeout (measured: a 5 ms answer took
2.97 s). On Linux truststore's store *is* OpenSSL's default paths (``SSL_CERT_FILE``
honoured) with a fallback list of bundle files, verified by OpenSSL itself: the same
trust is built here in one plain context, loaded once and shared without a lock. On
macOS and Windows the OS verifier is the point of truststore: each thread gets its own.
"""

from __future__ import annotations

import os
import re
import ssl
import sys
import threading
from collections.abc import Mapping

__all__ = ["Trust", "TrustError"]

# truststore's own fallback list (from certifi-system-store), for systems whose OpenSSL
# default paths hold no certificates.
_CA_FILE_CANDIDATES = (
    "/etc/ssl/cert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/cert.pem",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/ca-bundle.pem",
)
_HASHED_NAME = re.compile(r"^[0-9a-fA-F]{8}\.[0-9]$")
_OS_VERIFIER = sys.platform in ("darwin", "win32")


class TrustError(Exception):
    """A CA bundle the user named cannot be loaded."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Trust:
    """The certificates to trust; builds the SSL context on first use (plain http needs none)."""

    def __init__(self, bundles: tuple[tuple[str, str], ...] = ()) -> None:
        self.bundles = bundles  # (where it is named, path)
        self._lock = threading.Lock()
        self._shared: ssl.SSLContext | None = None
        self._local = threading.local()

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str], *, pip_cert: tuple[str, str] | None = None
    ) -> Trust:
        """``pip_cert``: pip.conf's ``cert`` as (file and section, value), if set."""
        named: list[tuple[str, str]] = []
        if environ.get("PIP_CERT"):  # pip's own precedence: the variable beats its files
            named.append(("PIP_CERT", environ["PIP_CERT"]))
        elif pip_cert is not None:
            named.append(pip_cert)
        for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            if environ.get(var):
                named.append((var, environ[var]))
        # OpenSSL reads SSL_CERT_FILE itself on Linux; the OS verifiers elsewhere do not.
        cert_file = environ.get("SSL_CERT_FILE")
        if _OS_VERIFIER and cert_file and os.path.exists(cert_file):
            named.append(("SSL_CERT_FILE", cert_file))
        return cls(tuple(dict.fromkeys(named)))

    def context(self) -> ssl.SSLContext:
        """The context for the calling thread (raises ``TrustError``)."""
        if _OS_VERIFIER:
            ctx: ssl.SSLContext | None = getattr(self._local, "ctx", None)
            if ctx is None:
                ctx = self._local.ctx = self._build()
            return ctx
        with self._lock:
            if self._shared is None:
                self._shared = self._build()
            return self._shared

    def _build(self) -> ssl.SSLContext:
        import certifi

        if _OS_VERIFIER:
            import truststore

            ctx: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        else:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            _load_system_store(ctx)
        ctx.load_verify_locations(certifi.where())
        for where, path in self.bundles:
            try:
                if os.path.isdir(path):
                    ctx.load_verify_locations(capath=path)
                else:
                    ctx.load_verify_locations(cafile=path)
            except (OSError, ssl.SSLError) as exc:
                detail = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
                raise TrustError(
                    f"cannot load the CA bundle {path} named by {where} ({detail})"
                ) from None
        return ctx


def _load_system_store(ctx: ssl.SSLContext) -> None:
    """What truststore does on Linux: OpenSSL's default paths, else a known bundle file."""
    defaults = ssl.get_default_verify_paths()
    if defaults.cafile or (defaults.capath and _holds_certs(defaults.capath)):
        ctx.set_default_verify_paths()
        return
    for cafile in _CA_FILE_CANDIDATES:
        if os.path.isfile(cafile):
            ctx.load_verify_locations(cafile=cafile)
            return


def _holds_certs(capath: str) -> bool:
    try:
        return any(_HASHED_NAME.match(name) for name in os.listdir(capath))
    except OSError:
        return False
