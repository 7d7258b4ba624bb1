"""The base of every configuration model, shared by ``pipelines/config.py`` and the source
packages' config models (which ``pipelines/config.py`` assembles into ``sources:``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict

DEFAULT_BUILD_DIR = Path("build")


class ConfigModel(BaseModel):
    # Unknown keys are errors: a typo must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


# What a source calls a service (Opsgenie service id or tag, Statuspage component name, file column
# value) -> a service of this config; unmapped incidents keep service null (not counted per service).
ServiceMap = dict[str, str]


def http_url_problem(value: str) -> str | None:
    """Why ``value`` is not an http(s) URL with a host we could call, or None when it is one."""
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https"):
        return "must start with https:// (or http://)"
    if not host:
        return "has no host"
    if parts.username or parts.password:
        # A credential in the URL would be printed with every error that names the URL.
        return "must not carry a user or password; give the credential in its own key"
    return None


def _check_http_url(value: str) -> str:
    problem = http_url_problem(value)
    if problem:
        raise ValueError(f"{problem}, e.g. https://api.example.com (got {value!r})")
    return value.strip()


HttpUrl = Annotated[str, AfterValidator(_check_http_url)]
