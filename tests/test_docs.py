"""The documentation stays true to the code: the example config loads, every key is documented,
and every relative link resolves."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from pipelines.config import Config, load_config

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCS = REPO_ROOT / "docs"
EXAMPLE = DOCS / "examples" / "organisation.example.yaml"
CONFIGURATION_MD = DOCS / "configuration.md"

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}")
# [text](target) not preceded by "!" is a link; images are checked the same way.
_MD_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)


def _nested_model(annotation: object) -> type[BaseModel] | None:
    """The pydantic model inside ``X``, ``X | None`` or ``list[X]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            model = _nested_model(arg)
            if model is not None:
                return model
    return None


def config_key_paths(model: type[BaseModel] = Config, prefix: str = "") -> Iterator[str]:
    """Every key of the schema as the reference writes it: ``sources.github[].token``."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path
        nested = _nested_model(field.annotation)
        if nested is not None:
            is_list = typing.get_origin(field.annotation) is list
            yield from config_key_paths(nested, f"{path}[]." if is_list else f"{path}.")


def test_example_configuration_validates(monkeypatch):
    text = EXAMPLE.read_text(encoding="utf-8")
    for name in set(_ENV_REF.findall(text)):
        monkeypatch.setenv(name, f"example-{name.lower()}")
    config = load_config(EXAMPLE)
    assert config.sources.github and config.sources.pagerduty and config.sources.surveys
    assert config.sources.surveys.salt.get_secret_value() == "example-survey_salt"
    assert not config.is_demo


def test_the_example_configuration_writes_its_outputs_under_build(monkeypatch):
    text = EXAMPLE.read_text(encoding="utf-8")
    for name in set(_ENV_REF.findall(text)):
        monkeypatch.setenv(name, f"example-{name.lower()}")
    config = load_config(EXAMPLE)
    build = EXAMPLE.parent.resolve() / "build"
    for path in (config.warehouse_path(), config.publish.site_dir, config.publish.snapshot_dir):
        assert Path(path).resolve().parent == build, path


def test_every_configuration_key_is_in_the_reference():
    reference = CONFIGURATION_MD.read_text(encoding="utf-8")
    paths = list(config_key_paths())
    assert "sources.github[].token" in paths  # the walk reaches nested lists
    missing = [path for path in paths if f"`{path}`" not in reference]
    assert not missing, f"docs/configuration.md does not document: {missing}"


def _markdown_files() -> list[Path]:
    return [REPO_ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def _anchors(markdown: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    text = _FENCE.sub("", markdown.read_text(encoding="utf-8"))
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", text, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in anchors:
            n += 1
            candidate = f"{slug}-{n}"
        anchors.add(candidate)
    return anchors


@pytest.mark.parametrize("doc", _markdown_files(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_relative_links_point_to_existing_files(doc):
    text = _FENCE.sub("", doc.read_text(encoding="utf-8"))
    broken = []
    for target in _MD_LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # external: https:, mailto:, file:
        path, _, anchor = target.partition("#")
        linked = doc.parent / path if path else doc
        missing_anchor = (
            anchor and linked.suffix == ".md" and linked.exists() and anchor not in _anchors(linked)
        )
        if not linked.exists() or missing_anchor:
            broken.append(target)
    assert not broken, f"{doc.relative_to(REPO_ROOT)} has broken links: {broken}"
