"""Build the report pages from the roll-up analyses (see :func:`write_report`)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd
from jinja2 import DictLoader, Environment, StrictUndefined
from markupsafe import Markup

from coder.report.assets import CSP, CSS, FAMILY_COLOURS, JS, SCALE_COLOURS
from coder.report.svg import clock, timeline_svg
from coder.report.templates import BASE, INDEX, SESSION
from coder.rollup.mapping import SCALES
from coder.rollup.miti import MITI_COLUMNS
from coder.rollup.scores import RollupConfig, SessionAnalysis
from coder.scheme import family

SCALE_LABELS = {
    "therapist_contribution": ("therapist", "warmth, understanding, collaboration; lowered by harmful behaviours"),
    "patient_contribution": ("patient", "openness and engagement; lowered by withdrawal and hostility"),
    "interaction": ("interaction", "working together, absence of unresolved conflict"),
    "total": ("total", "overall strength of the alliance"),
}
MITI_LABELS = {
    "reflection_question_ratio": "reflection-to-question ratio",
    "pct_complex_reflections": "% complex reflections",
    "pct_open_questions": "% open questions",
    "helpful_per_100": "helpful therapist codes per 100 therapist utterances",
    "harmful_per_100": "harmful therapist codes per 100 therapist utterances",
    "helpful_per_10min": "helpful therapist codes per 10 minutes",
    "harmful_per_10min": "harmful therapist codes per 10 minutes",
    "change_talk_share": "change talk / (change + sustain talk)",
}


def _env() -> Environment:
    env = Environment(loader=DictLoader({"base.html": BASE, "index.html": INDEX, "session.html": SESSION}),
                      autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(css=Markup(CSS), js=Markup(JS), csp=Markup(CSP))
    return env


def _fmt(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return "—"
    return f"{float(value):.{digits}f}"


def page_names(ids: Sequence[str]) -> list[str]:
    """File names of the session pages: safe, unique, derived from the ids."""
    out, seen = [], set()
    for sid in ids:
        base = "session-" + (re.sub(r"[^A-Za-z0-9_-]+", "_", str(sid)).strip("_")[:80] or "x")
        name, k = base, 2
        while name.lower() in seen:
            name, k = f"{base}-{k}", k + 1
        seen.add(name.lower())
        out.append(name + ".html")
    return out


def _score_cells(record: dict) -> list[dict]:
    cells = []
    for scale in SCALES:
        v, lo, hi = (float(record[k]) for k in (scale, f"{scale}_lo", f"{scale}_hi"))
        cal = record.get(f"calibrated_{scale}")
        cells.append({"label": SCALE_LABELS[scale][0], "colour": SCALE_COLOURS[scale], "value": f"{v:.1f}",
                      "lo": f"{lo:.1f}", "hi": f"{hi:.1f}", "pct": round(v * 20, 1), "lo_pct": round(lo * 20, 1),
                      "w_pct": round(max(0.5, (hi - lo) * 20), 1),
                      "calibrated": None if cal is None or pd.isna(cal) else f"{float(cal):.2f}"})
    return cells


def _worst_label(worst: dict | None, utts: pd.DataFrame) -> str:
    if not worst:
        return ""
    when = clock(worst["start"])
    return when if when else f"#{worst['first_utterance_id']}"


def _rows(analysis: SessionAnalysis, threshold: float, unreliable: tuple[str, ...] = ()) -> list[dict]:
    utts, episodes, worst = analysis.utterances, analysis.episodes, analysis.worst
    speakers = [u.speaker for u in analysis.session.utterances]
    probas = [u.meta.get("proba") or {} for u in analysis.session.utterances]
    ep_of: dict[int, tuple[int, str]] = {}
    badges: dict[int, list[dict]] = {}
    for ep in episodes.itertuples(index=False):
        for pos in range(int(ep.first_position), int(ep.window_end_position) + 1):
            ep_of.setdefault(pos, (int(ep.episode), ep.family))
        state = "res" if ep.resolved else "unres"
        label = f"episode {int(ep.episode)} · {ep.family} · {'resolved' if ep.resolved else 'unresolved'}"
        badges.setdefault(int(ep.first_position), []).append({"cls": state, "text": label})
        if ep.resolved:
            pos = int(utts.index[utts["utterance_id"] == ep.resolved_by][0])
            badges.setdefault(pos, []).append({"cls": "res", "text": f"episode {int(ep.episode)}: client re-engages"})
    if worst:
        badges.setdefault(int(worst["first_position"]), []).insert(0, {"cls": "worst", "text": "worst moment"})
    rows = []
    for i, u in enumerate(utts.itertuples(index=False)):
        codes = [c for c in str(u.codes).split(";") if c]
        cls = ["u", f"role-{u.role or 'other'}"]
        if u.role == "therapist" and u.harmful >= threshold:
            cls.append("has-harm")
        if i in ep_of:
            n, fam = ep_of[i]
            cls += ["in-ep", f"ep-{n}", f"ep-{fam}"]
        if worst and worst["first_position"] <= i <= worst["last_position"]:
            cls.append("worst")
        chips = []
        for c in codes:
            try:
                fam = family(c)
            except KeyError:
                fam = "neutral"
            p = probas[i].get(c)
            chips.append({"code": c, "family": fam, "p": f"{float(p):.2f}" if p is not None and p == p else "",
                          "unreliable": c in unreliable})
        rows.append({"position": i, "cls": " ".join(cls), "time": clock(u.start) or f"#{u.utterance_id}",
                     "speaker": speakers[i], "text": u.text, "codes": chips, "badges": badges.get(i, [])})
    return rows


def session_page(analysis: SessionAnalysis, record: dict, config: RollupConfig, env: Environment | None = None) -> str:
    """The HTML of one session page."""
    env = env or _env()
    utts, episodes, worst = analysis.utterances, analysis.episodes, analysis.worst
    timed = len(utts) > 0 and utts["start"].notna().all()
    eps = [{
        "episode": int(e.episode), "first_position": int(e.first_position),
        "when": (f"{clock(e.start)}–{clock(e.end)}" if timed
                 else f"utterance {e.first_utterance_id}" if e.first_utterance_id == e.last_utterance_id
                 else f"utterances {e.first_utterance_id}–{e.last_utterance_id}"),
        "family": e.family, "markers": e.markers.replace(";", ", "), "severity": e.severity,
        "response": e.response + (f" (ends {e.response_final})" if e.response == "mixed" else ""),
        "helpful": e.response_helpful.replace(";", ", "), "harmful": e.response_harmful.replace(";", ", "),
        "resolved": bool(e.resolved),
        "resolved_position": int(utts.index[utts["utterance_id"] == e.resolved_by][0]) if e.resolved else 0,
    } for e in episodes.itertuples(index=False)]
    worst_ctx = dict(worst, label=_worst_label(worst, utts)) if worst else None
    segment_label = (f"{config.window_s / 60:g} min every {config.step_s / 60:g} min" if timed
                     else f"{config.window_utterances} utterances every {config.step_utterances}")
    return env.get_template("session.html").render(
        session_id=str(record["session_id"]), worst=worst_ctx, n_utterances=int(record["n_utterances"]),
        duration=clock(record["duration_s"]) if timed else "", n_episodes=len(eps),
        n_resolved=sum(e["resolved"] for e in eps), scores=_score_cells(record),
        scales=[{"label": SCALE_LABELS[s][0], "colour": SCALE_COLOURS[s]} for s in SCALES],
        svg=Markup(timeline_svg(utts, analysis.segments, episodes, worst,
                                harm_threshold=config.episodes.threshold)),
        segment_label=segment_label, episodes=eps,
        miti=[(MITI_LABELS[c], _fmt(record.get(c))) for c in MITI_COLUMNS],
        families=list(FAMILY_COLOURS.items()), unreliable=bool(config.mapping.unreliable),
        rows=_rows(analysis, config.episodes.threshold, config.mapping.unreliable))


def write_report(analyses: Iterable[SessionAnalysis], tables: dict, out_dir: str | Path, *,
                 config: RollupConfig | None = None) -> Path:
    """Write ``out_dir/index.html`` and one page per session.

    Parameters
    ----------
    analyses : iterable of SessionAnalysis
        From :func:`coder.rollup.tables.analyse` (``record`` and ``segments`` set), in the
        order of ``tables["sessions"]``; may be a generator (one session in memory at a time).
    tables : dict of DataFrame
        From :func:`coder.rollup.tables.tables_from` (``sessions`` may carry ``calibrated_*``).
    out_dir : path-like
        Created if needed.
    config : RollupConfig, optional

    Returns
    -------
    Path
        The index page.
    """
    cfg = config or RollupConfig()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    env = _env()
    records = tables["sessions"].to_dict("records")
    names = page_names([r["session_id"] for r in records])
    calibrated = [c[len("calibrated_"):] for c in tables["sessions"].columns if c.startswith("calibrated_")]
    index_rows = []
    for analysis, record, name in zip(analyses, records, names):
        (out_dir / name).write_text(session_page(analysis, record, cfg, env), encoding="utf-8")
        worst = analysis.worst
        index_rows.append({
            "session_id": str(record["session_id"]), "href": name, "n_utterances": int(record["n_utterances"]),
            "duration_s": _fmt(record["duration_s"], 0), "duration": clock(record["duration_s"]) or "—",
            "scores": _score_cells(record), "calibrated": [_fmt(record.get(f"calibrated_{c}")) for c in calibrated],
            "n_episodes": int(record["n_rupture_episodes"]), "n_resolved": int(record["n_resolved"]),
            "harmful": _fmt(record["harmful_per_100"], 1), "rq": _fmt(record["reflection_question_ratio"]),
            "cr": _fmt(record["pct_complex_reflections"], 0), "oq": _fmt(record["pct_open_questions"], 0),
            "ct": _fmt(record["change_talk_share"]),
            "worst_href": f"{name}#u-{worst['first_position']}" if worst else "",
            "worst_label": _worst_label(worst, analysis.utterances) if worst else "",
        })
    scales = [{"label": SCALE_LABELS[s][0], "help": SCALE_LABELS[s][1]} for s in SCALES]
    index = out_dir / "index.html"
    index.write_text(env.get_template("index.html").render(sessions=index_rows, scales=scales, calibrated=calibrated),
                     encoding="utf-8")
    return index
