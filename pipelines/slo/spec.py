"""OpenSLO v1 specs (the subset in docs/slos.md): parse, validate, resolve references.

A spec file holds one or more YAML documents, each an ``SLO``, ``SLI`` or ``DataSource`` object.
Every error is one line naming the file, the object (``kind/name``) and the field::

    specs/checkout.yaml: SLO/checkout-availability: spec.objectives[0].target: must be ...
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipelines.config_model import http_url_problem
from pipelines.errors import ConfigError
from pipelines.yaml_safe import load_yaml, load_yaml_file

API_VERSION = "openslo/v1"
SPEC_SUFFIXES = (".yaml", ".yml")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DURATION = re.compile(r"^(\d+)(m|h|d)$")
_DURATION_SECONDS = {"m": 60, "h": 3600, "d": 86400}

#: The windows this project evaluates (see docs/slos.md): the period kind each one is reported as,
#: and its nominal length in hours (used to scale burn-rate alert factors).
WINDOWS: dict[tuple[str, bool], tuple[str, int]] = {
    ("28d", True): ("rolling_28d", 28 * 24),
    ("1W", False): ("week", 7 * 24),
    ("1M", False): ("month", 30 * 24),
    ("1Q", False): ("quarter", 90 * 24),
}
SOURCE_TYPES = ("Prometheus", "Warehouse", "Incidents")
#: Marts a Warehouse SLI may count rows of (dbt/models/slo/int_sli_warehouse_intervals depends on them).
WAREHOUSE_TABLES = ("fct_deployments", "fct_incidents", "fct_changes")


class SloSpecError(ConfigError):
    """An SLO spec file is malformed or refers to something that is not there."""


def parse_duration(value: str) -> int:
    """Seconds in a duration such as ``5m``, ``1h`` or ``1d``."""
    m = _DURATION.match(value)
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"{value!r} is not a duration such as 5m, 1h or 1d")
    return int(m.group(1)) * _DURATION_SECONDS[m.group(2)]


class _Model(BaseModel):
    # Unknown keys are errors: a misspelt field must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Metadata(_Model):
    name: str
    displayName: str | None = None
    labels: dict[str, Any] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if not _NAME.match(value) or len(value) > 63:
            raise ValueError(
                f"{value!r} must be lower-case letters, digits and '-' (a DNS label, at most 63)"
            )
        return value


# ------------------------------------------------------------------------------------- DataSource
class DataSourceSpec(_Model):
    type: Literal["Prometheus", "Warehouse", "Incidents"]
    description: str | None = None
    connectionDetails: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _connection(self) -> DataSourceSpec:
        details = self.connectionDetails
        if self.type == "Prometheus":
            url = details.get("url")
            problem = http_url_problem(url) if isinstance(url, str) else "is missing"
            if problem:
                raise ValueError(
                    f"connectionDetails.url: {problem}; give the Prometheus base URL "
                    f"(http://...) (got {url!r})"
                )
            backfill = details.get("backfillDays", 400)
            if not isinstance(backfill, int) or backfill < 1:
                raise ValueError("connectionDetails.backfillDays: must be a whole number >= 1")
            unknown = set(details) - {"url", "backfillDays", "timeoutSeconds"}
        else:
            unknown = set(details)
        if unknown:
            raise ValueError(f"connectionDetails: unknown key(s) {sorted(unknown)}")
        return self


class DataSource(_Model):
    apiVersion: Literal["openslo/v1"]
    kind: Literal["DataSource"]
    metadata: Metadata
    spec: DataSourceSpec


# -------------------------------------------------------------------------------------------- SLI
class MetricSource(_Model):
    metricSourceRef: str
    type: str | None = None
    spec: dict[str, Any] = Field(default_factory=dict)


class MetricSourceHolder(_Model):
    metricSource: MetricSource


class RatioMetric(_Model):
    counter: bool = True
    good: MetricSourceHolder | None = None
    bad: MetricSourceHolder | None = None
    total: MetricSourceHolder

    @model_validator(mode="after")
    def _good_or_bad(self) -> RatioMetric:
        if (self.good is None) == (self.bad is None):
            raise ValueError("give exactly one of 'good' and 'bad' (with 'total')")
        return self


class SLISpec(_Model):
    description: str | None = None
    ratioMetric: RatioMetric | None = None
    thresholdMetric: MetricSourceHolder | None = None

    @model_validator(mode="after")
    def _one_indicator(self) -> SLISpec:
        if (self.ratioMetric is None) == (self.thresholdMetric is None):
            raise ValueError("give exactly one of 'ratioMetric' and 'thresholdMetric'")
        return self


class SLI(_Model):
    apiVersion: Literal["openslo/v1"]
    kind: Literal["SLI"]
    metadata: Metadata
    spec: SLISpec


# -------------------------------------------------------------------------------------------- SLO
class Calendar(_Model):
    startTime: str | None = None
    timeZone: str = "UTC"

    @field_validator("timeZone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value


class TimeWindow(_Model):
    duration: str
    isRolling: bool = False
    calendar: Calendar | None = None

    @model_validator(mode="after")
    def _supported(self) -> TimeWindow:
        if (self.duration, self.isRolling) not in WINDOWS:
            kind = "rolling" if self.isRolling else "calendar-aligned"
            raise ValueError(
                f"duration: {self.duration!r} {kind} is not supported (use 28d with "
                "isRolling: true, or 1W, 1M or 1Q with isRolling: false)"
            )
        if self.isRolling and self.calendar is not None:
            raise ValueError("calendar: only calendar-aligned windows (isRolling: false) take one")
        return self


class Objective(_Model):
    displayName: str | None = None
    target: float
    op: Literal["lt", "lte", "gt", "gte"] | None = None
    value: float | None = None
    timeSliceTarget: float | None = None
    timeSliceWindow: str | None = None

    @field_validator("target")
    @classmethod
    def _target(cls, value: float) -> float:
        if not 0 < value < 1:
            raise ValueError(f"must be between 0 and 1, exclusive (got {value})")
        return value

    @field_validator("timeSliceTarget")
    @classmethod
    def _slice_target(cls, value: float | None) -> float | None:
        if value is not None and not 0 < value <= 1:
            raise ValueError(f"must be above 0 and at most 1 (got {value})")
        return value

    @field_validator("timeSliceWindow")
    @classmethod
    def _slice_window(cls, value: str | None) -> str | None:
        if value is None:
            return value
        seconds = parse_duration(value)
        if seconds < 60 or 86400 % seconds:
            raise ValueError(f"{value!r} must divide a day evenly and be at least 1m")
        return value


class SLOSpec(_Model):
    description: str | None = None
    service: str
    indicator: SLI | None = None
    indicatorRef: str | None = None
    timeWindow: list[TimeWindow] = Field(min_length=1, max_length=1)
    budgetingMethod: Literal["Occurrences", "Timeslices", "RatioTimeslices"]
    objectives: Annotated[list[Objective], Field(min_length=1, max_length=1)]
    alertPolicies: list[Any] = Field(default_factory=list)

    @model_validator(mode="after")
    def _indicator(self) -> SLOSpec:
        if (self.indicator is None) == (self.indicatorRef is None):
            raise ValueError("give exactly one of 'indicator' and 'indicatorRef'")
        return self


class SLO(_Model):
    apiVersion: Literal["openslo/v1"]
    kind: Literal["SLO"]
    metadata: Metadata
    spec: SLOSpec


_KINDS: dict[str, type[BaseModel]] = {"SLO": SLO, "SLI": SLI, "DataSource": DataSource}


# ----------------------------------------------------------------------------- resolved SLO
@dataclass(frozen=True)
class ResolvedSource:
    """One metric source with its DataSource resolved."""

    datasource: str
    type: str  # Prometheus | Warehouse | Incidents
    spec: dict[str, Any]
    connection: dict[str, Any]


@dataclass(frozen=True)
class Slo:
    """One SLO with its SLI and sources resolved: everything the pipeline needs."""

    name: str
    display_name: str
    description: str
    service: str
    file: str
    indicator: Literal["ratio", "threshold"]
    source_type: str
    good: ResolvedSource | None  # ratio: exactly one of good / bad
    bad: ResolvedSource | None
    total: ResolvedSource | None
    threshold: ResolvedSource | None  # thresholdMetric's source
    window: str  # 28d, 1W, 1M, 1Q
    rolling: bool
    time_zone: str | None
    budgeting_method: str
    target: float
    op: str | None
    value: float | None
    time_slice_target: float | None
    time_slice_window: str | None

    @property
    def period_kind(self) -> str:
        return WINDOWS[(self.window, self.rolling)][0]

    @property
    def period_hours(self) -> int:
        return WINDOWS[(self.window, self.rolling)][1]

    @property
    def interval_seconds(self) -> int:
        """The grain of fct_sli_intervals: the time slice, or one hour for Occurrences."""
        return parse_duration(self.time_slice_window) if self.time_slice_window else 3600

    @property
    def error_budget(self) -> float:
        return 1.0 - self.target


# ---------------------------------------------------------------------------------------- loading
def spec_files(paths: Iterable[Path]) -> list[Path]:
    """Every spec file named, folders expanded to their ``*.yaml``/``*.yml`` files (sorted)."""
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in SPEC_SUFFIXES))
        elif path.is_file():
            files.append(path)
        else:
            raise SloSpecError(f"{path}: SLO spec file or folder not found (check 'slos:')")
    return files


def load_slos(paths: Iterable[Path], *, services: Sequence[str] | None = None) -> list[Slo]:
    """Parse and validate the spec files, resolve references; ``services`` are the known ones."""
    objects: dict[tuple[str, str], tuple[str, BaseModel]] = {}
    for file in spec_files(paths):
        for obj in _parse_spec_file(file):
            key = (obj.kind, obj.metadata.name)  # type: ignore[attr-defined]
            if key in objects:
                raise SloSpecError(
                    f"{file}: {key[0]}/{key[1]}: metadata.name: also defined in {objects[key][0]}"
                )
            objects[key] = (str(file), obj)
    return resolve(objects, services=services)


def _parse_spec_file(file: Path) -> list[BaseModel]:
    loaded = load_yaml_file(file, error=SloSpecError, all_documents=True)
    return _spec_objects(loaded, label=str(file))


def parse_spec_text(text: str, *, label: str) -> list[BaseModel]:
    """Every OpenSLO object in one file's text, validated on its own (references not yet)."""
    loaded = load_yaml(text, label=label, error=SloSpecError, all_documents=True)
    return _spec_objects(loaded, label=label)


def _spec_objects(loaded: list[Any], *, label: str) -> list[BaseModel]:
    documents = [d for d in loaded if d is not None]
    if not documents:
        raise SloSpecError(f"{label}: no OpenSLO objects in the file")
    out = []
    for i, doc in enumerate(documents):
        if not isinstance(doc, dict):
            raise SloSpecError(f"{label}: document {i + 1}: expected a mapping")
        kind = doc.get("kind")
        meta = doc.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        obj_label = f"{kind or '?'}/{name or '?'}"
        if doc.get("apiVersion") != API_VERSION:
            raise SloSpecError(
                f"{label}: {obj_label}: apiVersion: must be {API_VERSION} "
                f"(got {doc.get('apiVersion')!r})"
            )
        if kind not in _KINDS:
            raise SloSpecError(
                f"{label}: {obj_label}: kind: must be one of {sorted(_KINDS)} (got {kind!r})"
            )
        try:
            out.append(_KINDS[kind].model_validate(doc))
        except ValidationError as exc:
            raise SloSpecError(f"{label}: {obj_label}: {_describe(exc)}") from None
    return out


def _describe(exc: ValidationError) -> str:
    error = exc.errors()[0]  # one line: the first problem; fixing it reveals the next
    loc = _dotted(tuple(error["loc"]))
    if error["type"] == "extra_forbidden":
        msg = "unknown field (check its spelling; see docs/slos.md)"
    elif error["type"] == "missing":
        msg = "required field is missing"
    else:
        msg = error["msg"].removeprefix("Value error, ")
        plain = error["type"] in ("value_error", "assertion_error") or "input" not in error
        if not plain and not isinstance(error["input"], dict | list):
            msg += f" (got {error['input']!r})"
    return f"{loc}: {msg}" if loc else msg


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before") or "[" in str(part):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def resolve(
    objects: dict[tuple[str, str], tuple[str, BaseModel]], *, services: Sequence[str] | None
) -> list[Slo]:
    """Resolve indicatorRef and metricSourceRef; check services and method/indicator fit."""
    return [
        _resolve_one(file, name, obj, objects, services)
        for (kind, name), (file, obj) in sorted(objects.items())
        if kind == "SLO"
    ]


def _resolve_one(
    file: str,
    name: str,
    obj: BaseModel,
    objects: dict[tuple[str, str], tuple[str, BaseModel]],
    services: Sequence[str] | None,
) -> Slo:
    assert isinstance(obj, SLO)

    def fail(field: str, message: str) -> SloSpecError:
        return SloSpecError(f"{file}: SLO/{name}: {field}: {message}")

    spec = obj.spec
    if services is not None and spec.service not in services:
        raise fail("spec.service", f"{spec.service!r} is not a configured service")
    if spec.indicatorRef is not None:
        found = objects.get(("SLI", spec.indicatorRef))
        if found is None:
            known = sorted(n for k, n in objects if k == "SLI")
            raise fail("spec.indicatorRef", f"no SLI named {spec.indicatorRef!r} (known: {known})")
        sli, sli_field = found[1], "spec.indicatorRef"
    else:
        sli, sli_field = spec.indicator, "spec.indicator"
    assert isinstance(sli, SLI)

    def source(holder: MetricSourceHolder | None, field: str) -> ResolvedSource | None:
        if holder is None:
            return None
        ms = holder.metricSource
        found = objects.get(("DataSource", ms.metricSourceRef))
        where = f"{sli_field} (SLI/{sli.metadata.name}) {field}.metricSource"
        if found is None:
            known = sorted(n for k, n in objects if k == "DataSource")
            raise fail(
                f"{where}.metricSourceRef",
                f"no DataSource named {ms.metricSourceRef!r} (known: {known})",
            )
        ds = found[1]
        assert isinstance(ds, DataSource)
        if ms.type is not None and ms.type != ds.spec.type:
            raise fail(
                f"{where}.type", f"{ms.type!r} does not match the DataSource's {ds.spec.type!r}"
            )
        problem = _check_source_spec(ds.spec.type, ms.spec, field)
        if problem:
            raise fail(f"{where}.spec", problem)
        return ResolvedSource(
            ms.metricSourceRef, ds.spec.type, dict(ms.spec), dict(ds.spec.connectionDetails)
        )

    objective = spec.objectives[0]
    window = spec.timeWindow[0]
    ratio, threshold = sli.spec.ratioMetric, sli.spec.thresholdMetric
    if ratio is not None:
        good = source(ratio.good, "ratioMetric.good")
        bad = source(ratio.bad, "ratioMetric.bad")
        total = source(ratio.total, "ratioMetric.total")
        types = {s.type for s in (good, bad, total) if s is not None}
        if len(types) > 1:
            raise fail(sli_field, f"good/bad and total must come from one source type ({types})")
        if objective.op is not None or objective.value is not None:
            raise fail("spec.objectives[0].op", "op/value apply to thresholdMetric SLIs only")
        source_type, thr = types.pop(), None
    else:
        good = bad = total = None
        thr = source(threshold, "thresholdMetric")
        assert thr is not None
        source_type = thr.type
        if source_type != "Prometheus":
            raise fail(sli_field, "thresholdMetric SLIs read a Prometheus query")
        if objective.op is None or objective.value is None:
            raise fail("spec.objectives[0].op", "a thresholdMetric objective needs op and value")
        if spec.budgetingMethod == "RatioTimeslices":
            raise fail("spec.budgetingMethod", "RatioTimeslices needs a ratioMetric SLI")
    method = spec.budgetingMethod
    if method == "Occurrences":
        if objective.timeSliceTarget is not None or objective.timeSliceWindow is not None:
            raise fail(
                "spec.objectives[0].timeSliceWindow",
                "time slices apply to Timeslices/RatioTimeslices budgeting only",
            )
    else:
        if objective.timeSliceWindow is None:
            raise fail("spec.objectives[0].timeSliceWindow", f"{method} budgeting needs one")
        if method == "Timeslices" and ratio is not None and objective.timeSliceTarget is None:
            raise fail(
                "spec.objectives[0].timeSliceTarget",
                "Timeslices budgeting of a ratioMetric needs one",
            )
        if method == "RatioTimeslices" and objective.timeSliceTarget is not None:
            raise fail("spec.objectives[0].timeSliceTarget", "RatioTimeslices budgeting takes none")
    return Slo(
        name=name,
        display_name=obj.metadata.displayName or name,
        description=spec.description or "",
        service=spec.service,
        file=file,
        indicator="ratio" if ratio is not None else "threshold",
        source_type=source_type,
        good=good,
        bad=bad,
        total=total,
        threshold=thr,
        window=window.duration,
        rolling=window.isRolling,
        time_zone=window.calendar.timeZone if window.calendar else None,
        budgeting_method=method,
        target=objective.target,
        op=objective.op,
        value=objective.value,
        time_slice_target=objective.timeSliceTarget,
        time_slice_window=objective.timeSliceWindow,
    )


_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def _check_source_spec(source_type: str, spec: dict[str, Any], field: str) -> str | None:
    """What is wrong with a metricSource's spec for its type, or None."""
    if source_type == "Prometheus":
        if set(spec) != {"query"} or not isinstance(spec.get("query"), str) or not spec["query"]:
            return "a Prometheus source takes exactly 'query' (a PromQL expression)"
        if not re.search(r"\[\s*\d+[smhd]\s*\]", spec["query"]):
            return "the query needs a range selector such as [1h] (it is the interval's length)"
    elif source_type == "Warehouse":
        if spec.get("table") not in WAREHOUSE_TABLES:
            return f"table: one of {list(WAREHOUSE_TABLES)} (got {spec.get('table')!r})"
        unknown = set(spec) - {"table", "timestamp", "filter"}
        if unknown:
            return f"unknown key(s) {sorted(unknown)} (a Warehouse source takes table, timestamp, filter)"
        for key in ("table", "timestamp"):
            if not isinstance(spec.get(key), str) or not _IDENT.match(spec[key]):
                return f"{key}: give a mart table / column name (lower_snake_case)"
        if "filter" in spec and not isinstance(spec["filter"], str):
            return "filter: give a SQL condition as text"
    elif source_type == "Incidents":
        expected = "minutes" if field.endswith("total") else "up_minutes"
        if field.endswith(".bad"):
            expected = "down_minutes"
        unknown = set(spec) - {"count", "severities"}
        if unknown or spec.get("count") != expected:
            return (
                f"an Incidents source in {field} takes count: {expected} (and optional severities)"
            )
        severities = spec.get("severities", [])
        if not isinstance(severities, list) or not all(isinstance(s, str) for s in severities):
            return "severities: give a list of severity names"
    return None
