"""The DevEx page: developer-survey results per wave beside the objective cognitive-load signals.

Reads only the marts: ``metrics_devex_wave`` (scores per wave and group; a suppressed group keeps its
counts and has every score null), ``metrics_devex_comments`` (free text of the teams that may be
shown) and ``metrics_cognitive_load_signals`` (per team and week). Never the raw, staging or
intermediate survey tables. A hidden group is written as its reason, never as a number.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

from dashboards.blocks import (
    Block,
    Card,
    Cards,
    Chart,
    Column,
    NoData,
    Note,
    Table,
    Wide,
    count,
    figure_html,
    fmt_date,
    fmt_hours,
    fmt_int,
    missing,
    utc_naive,
)
from dashboards.definitions import DEFINITIONS, SATISFACTION_TARGET
from dashboards.periods import complete_periods
from pipelines.surveys.text import spreadsheet_safe

if TYPE_CHECKING:
    from dashboards.context import PageContext

MARTS = "marts"
NO_DATA = "No data yet"
WAVES = "metrics_devex_wave"
COMMENTS = "metrics_devex_comments"
SIGNALS = "metrics_cognitive_load_signals"
SIGNAL_WEEKS = 4
INDEX_COLOUR = "#3b6ea8"
SATISFACTION_COLOUR = "#e67e22"

# (column, label, one-line definition); every construct is a favourable % (0-100, higher is better).
CONSTRUCTS: tuple[tuple[str, str, str], ...] = tuple(
    (f"{key}_favourable_pct", label, DEFINITIONS[key])
    for key, label in (
        ("feedback_loops", "Feedback loops"),
        ("intrinsic_load", "Intrinsic load"),
        ("extraneous_load", "Extraneous load"),
        ("team_scope", "Team scope"),
        ("germane_load", "Germane load"),
        ("flow", "Flow"),
        ("platform_experience", "Platform experience"),
        ("satisfaction", "Satisfaction"),
    )
)
SCORE_COLUMNS = [c for c, _, _ in CONSTRUCTS] + [
    "devex_index",
    "cognitive_load_intrinsic",
    "cognitive_load_extraneous",
    "cognitive_load_germane",
    "cognitive_load_team_scope",
    "cognitive_load_index",
    "satisfaction_mean",
    "platform_nps",
    "hours_lost_per_week",
]
WAVE_COLUMNS = [
    "wave",
    "wave_closed_at",
    "wave_number",
    "group_type",
    "group_value",
    "respondents",
    "invited",
    "response_rate",
    "suppressed",
    "suppression_reason",
    *SCORE_COLUMNS,
    "previous_wave",
    "devex_index_change",
    "cognitive_load_index_change",
    "satisfaction_mean_change",
    "platform_nps_change",
    "hours_lost_per_week_change",
]
SIGNAL_COLUMNS = [
    "team",
    "week",
    "engineers",
    "on_call",
    "services_owned",
    "repositories_owned",
    "services_per_engineer",
    "repositories_per_engineer",
    "incidents",
    "incidents_per_on_call",
    "open_prs",
    "active_developers",
    "open_prs_per_developer",
    "repos_touched_per_developer",
    "ci_runs",
    "ci_queue_p50_seconds",
    "ci_run_p50_seconds",
]
PRIVACY_REASON = re.compile(r"fewer than (\d+) responses")


# ------------------------------------------------------------------------------------ formatting
def _num(value: Any) -> float | None:
    return None if missing(value) else float(value)


def _score(value: Any, unit: str = "/100") -> str:
    if missing(value):
        return "—"
    v = float(value)
    if unit == "/5":
        return f"{v:.2f}/5"
    if unit == "NPS":
        return f"{v:+.0f}"
    if unit == "%":
        return f"{v:.1f}%"
    if unit == "h":
        return fmt_hours(v)
    return f"{v:.1f}/100"


def _delta(value: Any, digits: int = 1, suffix: str = "") -> str | None:
    if missing(value):
        return None
    v = float(value)
    sign = "+" if v > 0 else ("−" if v < 0 else "±")
    return f"{sign}{abs(v):.{digits}f}{suffix}"


def _seconds(value: Any) -> str:
    if missing(value):
        return "—"
    s = float(value)
    return f"{s:.0f} s" if s < 120 else fmt_hours(s / 3600)


def _ratio(value: Any) -> str:
    return "—" if missing(value) else f"{float(value):.2f}"


def _mean_count(values: pd.Series) -> str:
    """A weekly mean of people: ``6.8``, or ``8`` when whole."""
    mean = values.mean()
    return "—" if missing(mean) else f"{float(mean):.1f}".removesuffix(".0")


def _heat(value: Any, *, higher_is_better: bool = True) -> Markup | str:
    """A 0-100 score shaded red (bad) to green (good)."""
    if missing(value):
        return "—"
    v = max(0.0, min(100.0, float(value)))
    hue = (v if higher_is_better else 100 - v) * 1.2
    return Markup(
        '<span class="heat" style="background: hsl({:.0f}, 62%, 86%)">{:.0f}%</span>'
    ).format(hue, v)


def hidden_text(reason: Any) -> str:
    """How a suppressed group reads: its reason, never a number of its own."""
    text = "" if missing(reason) else str(reason).strip()
    if not text:
        return "hidden (anonymity rule)"
    return text if text.startswith("hidden") else f"{text} — hidden"


# ------------------------------------------------------------------------------------------- data
def read_waves(ctx: PageContext) -> pd.DataFrame:
    df = ctx.reader.frame(MARTS, WAVES, WAVE_COLUMNS)
    if df.empty:
        return df
    df = df.assign(
        wave_closed_at=utc_naive(df["wave_closed_at"]),
        suppressed=df["suppressed"].fillna(False).astype(bool),
        wave=df["wave"].astype(str),
    )
    if df["wave_number"].notna().any():
        df = df.assign(_order=pd.to_numeric(df["wave_number"], errors="coerce"))
    else:
        df = df.assign(_order=df["wave_closed_at"])
    # A suppressed row's scores are null by contract; null them here too so no number can leak.
    df.loc[df["suppressed"], SCORE_COLUMNS] = None
    return df.sort_values(["_order", "wave"], kind="stable")


def _latest_wave(waves: pd.DataFrame) -> str | None:
    if waves.empty:
        return None
    return str(waves["wave"].iloc[-1])


def _threshold(waves: pd.DataFrame) -> str | None:
    for reason in waves["suppression_reason"].dropna().astype(str):
        match = PRIVACY_REASON.search(reason)
        if match:
            return match.group(1)
    return None


# ------------------------------------------------------------------------------------------ page
def build_devex(ctx: PageContext) -> list[Block]:
    waves = read_waves(ctx)
    latest = _latest_wave(waves)
    blocks: list[Block] = []
    if latest is None:
        blocks.append(
            NoData("Developer survey", f"{NO_DATA}: marts.{WAVES} has not been built or is empty.")
        )
    else:
        current = waves[waves["wave"] == latest]
        blocks += _headline(waves, current, latest)
        blocks.append(_trend(waves))
        blocks.append(_group_table(current, "team", latest))
    blocks.append(_signals(ctx))
    if latest is not None:
        current = waves[waves["wave"] == latest]
        for group_type in ("tenure", "role"):
            if (current["group_type"] == group_type).any():
                blocks.append(_group_table(current, group_type, latest))
    blocks += _comments(ctx, latest)
    blocks.append(_privacy_note(waves))
    return blocks


def _headline(waves: pd.DataFrame, current: pd.DataFrame, latest: str) -> list[Block]:
    org = current[current["group_type"] == "org"]
    closed = fmt_date(current["wave_closed_at"].max())
    title = f"Latest wave: {latest} (closed {closed}), organisation"
    if org.empty:
        return [
            NoData(title, f"{NO_DATA}: no organisation row for wave {latest} in marts.{WAVES}.")
        ]
    row = org.iloc[0]
    if bool(row["suppressed"]):
        return [
            Note(
                f"Wave {latest}: the organisation's results are hidden "
                f"({hidden_text(row['suppression_reason'])}). No score is shown for this wave."
            )
        ]
    n = count(row["respondents"])
    sample = f"n = {n:,} respondents"
    previous = None if missing(row["previous_wave"]) else str(row["previous_wave"])

    def since(measure: str, digits: int = 1, suffix: str = "") -> str:
        d = _delta(row[f"{measure}_change"], digits, suffix)
        if d is not None:
            return f" · {d} since {previous}" if previous else f" · {d}"
        return " · first wave" if previous is None else f" · no comparable value in {previous}"

    invited = _num(row["invited"])
    rate = _num(row["response_rate"])
    rate_change = ""
    prior = (
        waves[(waves["group_type"] == "org") & (waves["wave"] == previous)] if previous else None
    )
    if prior is not None and not prior.empty and rate is not None:
        before = _num(prior.iloc[0]["response_rate"])
        if before is not None:
            rate_change = f" · {_delta((rate - before) * 100, 1, ' pp')} since {previous}"
    rate_sample = (
        f"{n:,} of {invited:,.0f} invited{rate_change}"
        if invited is not None
        else f"{sample}; invited not given"
    )
    satisfaction = _num(row["satisfaction_mean"])
    target = (
        ""
        if satisfaction is None
        else (" (met)" if satisfaction > SATISFACTION_TARGET else " (not met)")
    )
    cards = [
        Card(
            "DevEx index",
            _score(row["devex_index"]),
            sample + since("devex_index"),
            DEFINITIONS["devex_index"],
        ),
        Card(
            "Satisfaction",
            _score(satisfaction, "/5"),
            f"target > {SATISFACTION_TARGET:.1f}{target} · {sample}"
            + since("satisfaction_mean", 2),
            DEFINITIONS["satisfaction_mean"],
        ),
        Card(
            "Platform NPS",
            _score(row["platform_nps"], "NPS"),
            sample + since("platform_nps", 0),
            DEFINITIONS["platform_nps"],
        ),
        Card(
            "Response rate",
            "—" if rate is None else f"{rate * 100:.1f}%",
            rate_sample,
            DEFINITIONS["response_rate"],
        ),
        Card(
            "Hours lost per week",
            _score(row["hours_lost_per_week"], "h"),
            sample + since("hours_lost_per_week", 1, " h"),
            DEFINITIONS["hours_lost_per_week"],
        ),
        Card(
            "Cognitive load index",
            _score(row["cognitive_load_index"]),
            "higher = more load · " + sample + since("cognitive_load_index"),
            DEFINITIONS["cognitive_load_index"],
        ),
    ]
    return [Cards(title, cards)]


def _trend(waves: pd.DataFrame) -> Block:
    org = waves[waves["group_type"] == "org"]
    shown = org[~org["suppressed"]]
    title = "DevEx index and satisfaction per wave (organisation)"
    if shown.empty or shown[["devex_index", "satisfaction_mean"]].isna().all().all():
        return NoData(title, f"{NO_DATA}: no wave with enough responses to show.")
    x = org["wave"].tolist()
    n = [
        "hidden" if hidden else str(count(r))
        for hidden, r in zip(org["suppressed"], org["respondents"], strict=True)
    ]
    fig = go.Figure()
    fig.add_scatter(
        x=x,
        y=org["devex_index"].astype("float64"),
        name="DevEx index (0-100)",
        mode="lines+markers",
        line_color=INDEX_COLOUR,
        customdata=n,
        hovertemplate="%{x}<br>DevEx index %{y:.1f}<br>n = %{customdata} respondents"
        "<extra></extra>",
    )
    fig.add_scatter(
        x=x,
        y=org["satisfaction_mean"].astype("float64"),
        name="Satisfaction (1-5)",
        mode="lines+markers",
        yaxis="y2",
        line_color=SATISFACTION_COLOUR,
        customdata=n,
        hovertemplate="%{x}<br>Satisfaction %{y:.2f}/5<br>n = %{customdata} respondents"
        "<extra></extra>",
    )
    fig.add_scatter(
        x=x,
        y=[SATISFACTION_TARGET] * len(x),
        name=f"Satisfaction target ({SATISFACTION_TARGET:.1f})",
        mode="lines",
        yaxis="y2",
        line={"color": SATISFACTION_COLOUR, "dash": "dot", "width": 1},
        hoverinfo="skip",
    )
    fig.update_layout(
        xaxis={"type": "category", "title": "survey wave"},
        yaxis={"title": "DevEx index", "range": [0, 100]},
        yaxis2={
            "title": "satisfaction /5",
            "overlaying": "y",
            "side": "right",
            "range": [1, 5],
            "dtick": 1,
            "showgrid": False,
        },
    )
    return Chart(title, figure_html(fig, height=320), DEFINITIONS["devex_index"])


def _group_table(current: pd.DataFrame, group_type: str, wave: str) -> Block:
    rows_df = current[current["group_type"] == group_type].sort_values("group_value")
    label = {"team": "team", "tenure": "tenure", "role": "role"}[group_type]
    title = f"Where it hurts: favourable % per {label}, wave {wave}"
    if rows_df.empty:
        return NoData(title, f"{NO_DATA}: no {label} groups in wave {wave}.")
    with_rate = group_type == "team" and rows_df["response_rate"].notna().any()
    columns = [
        Column(label),
        Column("n respondents", DEFINITIONS["respondents"], True),
        *([Column("response rate", DEFINITIONS["response_rate"], True)] if with_rate else []),
        *(Column(name, definition, True) for _, name, definition in CONSTRUCTS),
        Column("DevEx index", DEFINITIONS["devex_index"], True),
        Column("cognitive load", DEFINITIONS["cognitive_load_index"], True),
    ]
    width = len(columns)
    rows: list[list[Any]] = []
    hidden = 0
    for _, r in rows_df.iterrows():
        name = "—" if missing(r["group_value"]) else str(r["group_value"])
        if bool(r["suppressed"]):
            hidden += 1
            reason = Markup('<span class="hidden-group">{}</span>').format(
                hidden_text(r["suppression_reason"])
            )
            rows.append([name, Wide(reason, width - 1)])
            continue
        rate = _num(r["response_rate"])
        rows.append(
            [
                name,
                fmt_int(r["respondents"]),
                *([("—" if rate is None else f"{rate * 100:.0f}%")] if with_rate else []),
                *(_heat(r[c]) for c, _, _ in CONSTRUCTS),
                _heat(r["devex_index"]),
                _heat(r["cognitive_load_index"], higher_is_better=False),
            ]
        )
    shown = len(rows) - hidden
    note = (
        f"{shown} {label} groups shown, {hidden} hidden by the anonymity rule (no score, no count). "
        "Red is worse, green better; cognitive load is shaded the other way (higher = more load)."
    )
    return Table(title, columns, rows, note=note)


def _signals(ctx: PageContext) -> Block:
    title = "Objective cognitive-load signals per team"
    df = ctx.reader.frame(MARTS, SIGNALS, [*SIGNAL_COLUMNS, "is_complete"])
    if not df.empty:
        df = df.assign(week=utc_naive(df["week"]))
        df = df[df["week"].notna() & df["team"].notna()]
        df = complete_periods(df, "week", ctx.now.date(), start="week")
    if df.empty:
        return NoData(title, f"{NO_DATA}: marts.{SIGNALS} has no complete week yet.")
    weeks = sorted(df["week"].unique())[-SIGNAL_WEEKS:]
    recent = df[df["week"].isin(weeks)].copy()
    for column in SIGNAL_COLUMNS[2:]:
        recent[column] = pd.to_numeric(recent[column], errors="coerce")
    last = recent[recent["week"] == weeks[-1]].set_index("team")
    rows = []
    for team, part in recent.groupby("team", sort=True):
        latest = last.loc[team] if team in last.index else part.iloc[-1]
        if isinstance(latest, pd.DataFrame):
            latest = latest.iloc[0]
        rows.append(
            [
                str(team),
                fmt_int(latest["engineers"]),
                _ratio(latest["services_per_engineer"]),
                _ratio(latest["repositories_per_engineer"]),
                f"{_ratio(part['incidents_per_on_call'].mean())} ({fmt_int(part['incidents'].sum())})",
                _ratio(part["open_prs_per_developer"].mean()),
                _ratio(part["repos_touched_per_developer"].mean()),
                _seconds(part["ci_queue_p50_seconds"].mean()),
                _seconds(part["ci_run_p50_seconds"].mean()),
                f"n = {_mean_count(part['active_developers'])} developers, "
                f"{fmt_int(part['ci_runs'].sum())} CI runs",
            ]
        )
    columns = [
        Column("team"),
        Column("engineers", DEFINITIONS["engineers"], True),
        Column("services / engineer", DEFINITIONS["services_per_engineer"], True),
        Column("repos / engineer", DEFINITIONS["repositories_per_engineer"], True),
        Column("incidents / on-call per week (total)", DEFINITIONS["incidents_per_on_call"], True),
        Column("open PRs / developer", DEFINITIONS["open_prs_per_developer"], True),
        Column("repos touched / developer", DEFINITIONS["repos_touched_per_developer"], True),
        Column("CI queue p50", DEFINITIONS["ci_queue"], True),
        Column("CI run p50", DEFINITIONS["ci_run"], True),
        Column("sample", DEFINITIONS["signal_sample"], True),
    ]
    span = f"{fmt_date(weeks[0])} to {fmt_date(weeks[-1] + pd.Timedelta(days=6))}"
    return Table(
        f"{title}, the {len(weeks)} complete weeks {span}",
        columns,
        rows,
        note="Beside the survey: what the systems record about team scope, interrupts, work in "
        "progress, context switching and CI waits (marts.metrics_cognitive_load_signals). Context "
        "for the survey, not a productivity score; nothing is reported per person.",
    )


def _comments(ctx: PageContext, latest: str | None) -> list[Block]:
    title = "Comments"
    if not ctx.reader.has(MARTS, COMMENTS):
        return [NoData(title, f"{NO_DATA}: marts.{COMMENTS} has not been built yet.")]
    df = ctx.reader.frame(
        MARTS, COMMENTS, ["wave", "wave_closed_at", "team", "item_id", "comment_text"]
    )
    df = df[df["comment_text"].notna() & (df["comment_text"].astype(str).str.strip() != "")]
    if latest is None and not df.empty:
        closed = utc_naive(df["wave_closed_at"])
        latest = str(df.loc[closed.idxmax(), "wave"]) if closed.notna().any() else None
    if df.empty or latest is None:
        return [NoData(title, f"{NO_DATA}: marts.{COMMENTS} is empty.")]
    wave = df[df["wave"].astype(str) == latest]
    if wave.empty:
        return [
            Note(f"Comments: no free-text answer from a team that may be shown in wave {latest}.")
        ]
    blocks: list[Block] = [
        Note(
            f"Comments from wave {latest}, grouped by team: only teams whose results may be shown "
            "(marts.metrics_devex_comments); no name, tenure or role travels with the text."
        )
    ]
    for team, part in wave.groupby(wave["team"].fillna("(no team)").astype(str), sort=True):
        grouped = group_duplicates(part)
        blocks.append(
            Table(
                f"Comments from {team} (n = {len(part)}, {len(grouped)} distinct)",
                [
                    Column("question", DEFINITIONS["question"]),
                    Column("comment", DEFINITIONS["comments"]),
                    Column("answers", DEFINITIONS["comment_count"], True),
                ],
                [
                    [
                        question_text(item),
                        # Prefixed here too (idempotent), for a mart built before the rule.
                        Markup('<span class="comment">{}</span>').format(spreadsheet_safe(text)),
                        f"{times:,}",
                    ]
                    for item, text, times in grouped
                ],
            )
        )
    return blocks


_NOT_WORD = re.compile(r"[^\w]+")


def normalise_comment(text: str) -> str:
    """What makes two comments "the same": case, spacing and punctuation aside."""
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def group_duplicates(part: pd.DataFrame) -> list[tuple[str, str, int]]:
    """One (item, text, count) per distinct comment of one group, per question: the text as first
    given (in the mart's pseudo-random order), the most repeated first within a question. Only
    rows of the comments mart come in, so a group under the anonymity threshold never does."""
    counts: dict[tuple[str, str], list] = {}
    for item, text in zip(
        part["item_id"].astype(str), part["comment_text"].astype(str), strict=True
    ):
        key = (item, normalise_comment(text) or text)
        if key in counts:
            counts[key][1] += 1
        else:
            counts[key] = [text, 1]
    ordered = sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1][1]))
    return [(item, text, times) for (item, _), (text, times) in ordered]


@functools.cache
def _questions() -> dict[str, str]:
    """Item id -> question text, from the survey instrument (pipelines/surveys/instrument.yaml)."""
    from pipelines.surveys.loader import Instrument

    return {
        str(item["id"]): str(item.get("text") or item["id"]) for item in Instrument.load().items
    }


def question_text(item_id: object) -> str:
    """``OT1`` -> "The biggest thing slowing you down"; an id the instrument lacks stays as it is."""
    if missing(item_id):
        return "—"
    return _questions().get(str(item_id), str(item_id))


def _privacy_note(waves: pd.DataFrame) -> Note:
    k = _threshold(waves) if not waves.empty else None
    threshold = f"fewer than {k} responses" if k else "fewer responses than the anonymity threshold"
    return Note(
        f"Anonymity: a team, tenure or role group with {threshold} is hidden "
        "(sources.surveys.anonymity_threshold), and so are the smallest other groups of the same "
        "kind when the organisation total minus the visible groups would reveal a hidden one "
        "(complementary suppression). A hidden group shows no score, no count and no comments. "
        "See docs/surveys.md#privacy."
    )
