"""The session timeline as inline SVG: the four scales over segments, rupture episodes, harmful
therapist moments and the worst moment, every mark a link into the transcript.

Pure string building; every piece of text is escaped. No ``xmlns`` (inline SVG in HTML needs none),
so the page holds no URL of any kind.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np
import pandas as pd

from coder.report.assets import SCALE_COLOURS

WIDTH, LEFT, RIGHT = 1000, 36, 12
CHART_TOP, CHART_H = 10, 170
LANE_EP, LANE_H = CHART_TOP + CHART_H + 26, 22
LANE_HARM = LANE_EP + LANE_H + 10
HEIGHT = LANE_HARM + 14 + 22
EP_COLOURS = {"withdrawal": "#e0b84a", "confrontation": "#a66cc7", "mixed": "#c77d6c"}


def clock(seconds) -> str:
    """``h:mm:ss`` (or ``m:ss`` under an hour); '' for missing."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return ""
    s = int(round(float(seconds)))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class Axis:
    """Maps a time (or an utterance position, without times) to an x coordinate."""

    def __init__(self, utts: pd.DataFrame):
        self.timed = len(utts) > 0 and utts["start"].notna().all()
        if self.timed:
            ends = utts["end"].fillna(utts["start"])
            self.lo, self.hi = float(utts["start"].min()), float(max(ends.max(), utts["start"].max()))
        else:
            self.lo, self.hi = 0.0, float(max(1, len(utts) - 1))
        self.span = max(self.hi - self.lo, 1e-9)
        self.starts = utts["start"].to_numpy(float) if self.timed else np.arange(len(utts), dtype=float)

    def x(self, value: float) -> float:
        return LEFT + (float(value) - self.lo) / self.span * (WIDTH - LEFT - RIGHT)

    def at(self, position: int) -> float:
        """x of an utterance position."""
        return self.x(self.starts[int(position)])

    def ticks(self) -> list[tuple[float, str]]:
        if self.timed:
            step = next(s for s in (60, 120, 300, 600, 900, 1800, 3600, 7200) if self.span / s <= 12)
            first = math.ceil(self.lo / step) * step
            return [(self.x(t), clock(t)) for t in np.arange(first, self.hi + 1e-9, step)]
        step = next(s for s in (5, 10, 20, 50, 100, 200, 500, 1000, 5000) if self.span / s <= 12)
        return [(self.x(p), f"#{int(p)}") for p in np.arange(0, self.hi + 1e-9, step)]


def _y(score: float) -> float:
    return CHART_TOP + CHART_H - float(score) / 5.0 * CHART_H


def _link(href: str, inner: str, title: str, cls: str = "", ep: int | None = None) -> str:
    attrs = f' class="{cls}"' if cls else ""
    attrs += f' data-ep="{ep}"' if ep is not None else ""
    return f'<a href="{escape(href)}"{attrs}><title>{escape(title)}</title>{inner}</a>'


def timeline_svg(utts: pd.DataFrame, segments: pd.DataFrame, episodes: pd.DataFrame, worst: dict | None,
                 *, harm_threshold: float = 0.5) -> str:
    """The timeline of one session as an ``<svg id="timeline">`` element (a string).

    Parameters
    ----------
    utts : pandas.DataFrame
        :func:`coder.rollup.features.utterance_table` of the session.
    segments : pandas.DataFrame
        Its rows of ``segments.csv``.
    episodes : pandas.DataFrame
        Its rows of ``ruptures.csv``.
    worst : dict or None
        :func:`coder.rollup.episodes.worst_moment`.
    harm_threshold : float
        Probability at or above which a therapist utterance gets a harm tick.
    """
    axis = Axis(utts)
    parts = [f'<svg id="timeline" class="timeline" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="Timeline of the four scales and of rupture episodes">']
    for v in range(6):
        y = _y(v)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>'
                     f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{v}</text>')
    for x, label in axis.ticks():
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{CHART_TOP}" y2="{HEIGHT - 20}" stroke="#f0f0f0"/>'
                     f'<text x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle">{escape(label)}</text>')
    if len(segments):
        mids = [axis.x((axis.starts[int(a)] + axis.starts[int(b)]) / 2)
                for a, b in zip(segments["first_position"], segments["last_position"])]
        if len(segments) == 1:  # one window: a level line over the span it covers
            row = segments.iloc[0]
            segments = segments.iloc[[0, 0]]
            mids = [axis.at(row["first_position"]), axis.at(row["last_position"])]
        upper = " ".join(f"{x:.1f},{_y(v):.1f}" for x, v in zip(mids, segments["total_hi"]))
        lower = " ".join(f"{x:.1f},{_y(v):.1f}" for x, v in zip(reversed(mids), reversed(list(segments["total_lo"]))))
        parts.append(f'<polygon points="{upper} {lower}" fill="#222" fill-opacity="0.08" stroke="none"/>')
        for scale, colour in SCALE_COLOURS.items():
            pts = " ".join(f"{x:.1f},{_y(v):.1f}" for x, v in zip(mids, segments[scale]))
            width = 3 if scale == "total" else 1.8
            parts.append(f'<polyline class="scale-{scale}" points="{pts}" fill="none" stroke="{colour}" '
                         f'stroke-width="{width}" stroke-linejoin="round"/>')
        for x, row in zip(mids, segments.itertuples(index=False)):
            title = (f"{clock(row.start)}–{clock(row.end)}  total {row.total:.1f} [{row.total_lo:.1f}–"
                     f"{row.total_hi:.1f}]  therapist {row.therapist_contribution:.1f}  patient "
                     f"{row.patient_contribution:.1f}  interaction {row.interaction:.1f}")
            dot = f'<circle cx="{x:.1f}" cy="{_y(row.total):.1f}" r="3.5" fill="#222"/>'
            parts.append(_link(f"#u-{int(row.first_position)}", dot, title, "seg-link"))
    parts.append(f'<text x="{LEFT}" y="{LANE_EP - 6}">rupture episodes</text>')
    for ep in episodes.itertuples(index=False):
        x0, x1 = axis.at(ep.first_position), axis.at(ep.last_position)
        xw = axis.at(min(int(ep.window_end_position), len(utts) - 1))
        colour = EP_COLOURS.get(ep.family, "#999")
        dash = "" if ep.resolved else ' stroke-dasharray="4 2"'
        state = "resolved" if ep.resolved else "unresolved"
        shape = (f'<rect x="{x0:.1f}" y="{LANE_EP}" width="{max(4.0, x1 - x0):.1f}" height="{LANE_H}" rx="3" '
                 f'fill="{colour}" stroke="{"#14632f" if ep.resolved else "#a3001b"}" stroke-width="1.5"{dash}/>'
                 f'<line x1="{x1:.1f}" x2="{max(x1, xw):.1f}" y1="{LANE_EP + LANE_H / 2}" y2="{LANE_EP + LANE_H / 2}" '
                 f'stroke="{"#14632f" if ep.resolved else "#a3001b"}" stroke-width="2" stroke-dasharray="2 2"/>'
                 f'<text x="{x0 + 3:.1f}" y="{LANE_EP + 15}" fill="#111">'
                 f'{int(ep.episode)}{"✓" if ep.resolved else "✗"}</text>')
        title = (f"Episode {int(ep.episode)}: {ep.family}, {clock(ep.start)}–{clock(ep.end)}, {state}; "
                 f"markers {ep.markers.replace(';', ', ')}; severity {ep.severity}; response {ep.response}")
        parts.append(_link(f"#u-{int(ep.first_position)}", shape, title, "ep-link", int(ep.episode)))
    parts.append(f'<text x="{LEFT}" y="{LANE_HARM - 2}">harmful therapist codes</text>')
    harm = utts[(utts["role"] == "therapist") & (utts["harmful"] >= harm_threshold)]
    for row in harm.itertuples(index=False):
        x = axis.at(row.position)
        tick = f'<rect x="{x - 1.5:.1f}" y="{LANE_HARM + 2}" width="3" height="12" fill="#a3001b"/>'
        parts.append(_link(f"#u-{int(row.position)}", tick, f"{clock(row.start)} {row.codes.replace(';', ', ')}",
                           "harm-link"))
    if worst:
        x = axis.at(worst["first_position"])
        mark = (f'<path d="M{x - 7:.1f},{CHART_TOP - 2} L{x + 7:.1f},{CHART_TOP - 2} L{x:.1f},{CHART_TOP + 10} Z" '
                f'fill="#a3001b"/><line x1="{x:.1f}" x2="{x:.1f}" y1="{CHART_TOP}" y2="{LANE_HARM + 14}" '
                f'stroke="#a3001b" stroke-width="1" stroke-dasharray="3 3"/>')
        parts.append(_link(f"#u-{int(worst['first_position'])}", mark,
                           f"Worst moment at {clock(worst['start'])}", "worst-mark"))
    parts.append("</svg>")
    return "".join(parts)
