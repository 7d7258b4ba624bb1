"""What the dbt survey-scoring models need from the instrument, as dbt vars (a pure function).

The instrument file (instrument.yaml) is the one place items, constructs, reverse-scoring and the
index recipes are written; the pipeline hands them to dbt on every build, and
``dbt/dbt_project.yml`` carries the same values as defaults (a test keeps the two equal).
"""

from __future__ import annotations

from typing import Any

from pipelines.surveys.loader import Instrument

DEFAULT_ANONYMITY_THRESHOLD = 5


def scoring_vars(
    instrument: Instrument | None = None, anonymity_threshold: int = DEFAULT_ANONYMITY_THRESHOLD
) -> dict[str, Any]:
    """The ``survey_*`` dbt vars: items (id, construct, kind, reverse, hours) and the recipes."""
    instrument = instrument or Instrument.load()
    items = []
    for item in instrument.items:
        kind = item.get("kind", "likert")
        entry: dict[str, Any] = {
            "id": item["id"],
            "kind": kind,
            "construct": item.get("construct", ""),
            "reverse": bool(item.get("reverse", False)),
        }
        if kind == "hours_lost":
            entry["hours"] = dict(zip(item["choices"], item["hours"], strict=True))
        items.append(entry)
    return {
        "survey_items": items,
        "survey_scale": {"min": instrument.scale_min, "max": instrument.scale_max},
        "survey_favourable_from": instrument.favourable_from,
        "survey_cognitive_load_constructs": list(instrument.cognitive_load),
        "survey_devex_index_constructs": list(instrument.devex_index),
        "survey_satisfaction_construct": instrument.satisfaction,
        "survey_anonymity_threshold": anonymity_threshold,
    }
