"""Errors a user can cause. Each carries a one-line message naming where and what, and the fix."""

from __future__ import annotations


class PlatformMetricsError(Exception):
    """Base for errors the CLI reports as one line and a non-zero exit, never a traceback."""

    exit_code = 2


class ConfigError(PlatformMetricsError):
    """The configuration file is missing, malformed, or names something that is not there."""


class SourceError(PlatformMetricsError):
    """A source system could not be reached or answered with something we cannot use."""

    exit_code = 3


class SourceAuthError(SourceError):
    """A source rejected the credentials (401/403 that is not a rate limit)."""


class SourceNotFoundError(SourceError):
    """A source has nothing at the URL (HTTP 404): a misspelt name, or no access to it."""


class WarehouseError(PlatformMetricsError):
    """The warehouse file cannot be opened (locked by another writer, unreadable, wrong version)."""

    exit_code = 4
