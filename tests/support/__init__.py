"""Shared test helpers: the sandboxed environment, wheels built on the fly, local servers."""
