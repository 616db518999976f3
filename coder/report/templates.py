"""Jinja2 templates of the report (autoescaped: every transcript string is escaped on output)."""

from __future__ import annotations

BASE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{% block title %}{% endblock %}</title>
<style>{{ css }}</style></head>
<body>{% block body %}{% endblock %}
<script>{{ js }}</script></body></html>
"""

INDEX = """{% extends "base.html" %}
{% block title %}alliance-coder report — {{ sessions|length }} session(s){% endblock %}
{% block body %}
<header class="top"><h1>alliance-coder report</h1>
<span class="muted">{{ sessions|length }} session(s) · scores 0–5 (0 = not at all, 5 = a great deal), with 95% bands ·
click a column to sort</span></header>
<main class="wide">
<section><h2>Sessions</h2>
<table class="grid" id="sessions"><thead><tr>
<th>session</th><th>duration</th><th>utterances</th>
{% for s in scales %}<th>{{ s.label }}</th>{% endfor %}
{% for c in calibrated %}<th>calibrated {{ c }}</th>{% endfor %}
<th title="rupture episodes (resolved)">ruptures</th><th>harmful /100</th><th>R:Q</th><th>%CR</th><th>%OQ</th>
<th>change talk</th>
<th>worst moment</th></tr></thead><tbody>
{% for r in sessions %}<tr>
<td data-v="{{ r.session_id }}"><a href="{{ r.href }}">{{ r.session_id }}</a></td>
<td class="num" data-v="{{ r.duration_s }}">{{ r.duration }}</td>
<td class="num">{{ r.n_utterances }}</td>
{% for s in r.scores %}<td class="num score" data-v="{{ s.value }}" title="95% band {{ s.lo }}–{{ s.hi }}">
<b>{{ s.value }}</b><br><span class="muted">{{ s.lo }}–{{ s.hi }}</span>
<div class="bar"><div class="ci" style="left:{{ s.lo_pct }}%;width:{{ s.w_pct }}%"></div>
<div class="pt" style="left:{{ s.pct }}%"></div></div></td>{% endfor %}
{% for c in r.calibrated %}<td class="num">{{ c }}</td>{% endfor %}
<td class="num" data-v="{{ r.n_episodes }}">{{ r.n_episodes }} ({{ r.n_resolved }})</td>
<td class="num">{{ r.harmful }}</td><td class="num">{{ r.rq }}</td><td class="num">{{ r.cr }}</td>
<td class="num">{{ r.oq }}</td><td class="num">{{ r.ct }}</td>
<td>{% if r.worst_href %}<a href="{{ r.worst_href }}">{{ r.worst_label }}</a>{% else %}—{% endif %}</td>
</tr>{% endfor %}</tbody></table>
</section>
<section><h2>Reading the scores</h2>
<p class="muted">Observer-style scores in the spirit of the VTAS (Hartley &amp; Strupp 1983), computed from the
utterance codes by an explicit mapping (annotation_guidelines/rollup.md); bands are bootstrap intervals over
turns. They point a supervisor to sessions and moments worth a look; they are not a clinical judgement.</p>
<ul class="muted">{% for s in scales %}<li><b>{{ s.label }}</b>: {{ s.help }}</li>{% endfor %}</ul>
</section></main>
{% endblock %}
"""

SESSION = """{% extends "base.html" %}
{% block title %}{{ session_id }} — alliance-coder{% endblock %}
{% block body %}
<header class="top">
<h1>{{ session_id }}</h1>
{% if worst %}<a id="worst-link" class="btn worst" href="#u-{{ worst.first_position }}"
 title="Press W to jump here">⚑ Worst moment · {{ worst.label }}</a>{% else %}
<span class="muted">no clear low point</span>{% endif %}
<div class="filters" role="radiogroup" aria-label="Filter the transcript">
<label><input type="radio" name="filter" value="all" checked>all</label>
<label><input type="radio" name="filter" value="ruptures">only ruptures</label>
<label><input type="radio" name="filter" value="harmful">only harmful behaviours</label></div>
<a class="btn" href="index.html">all sessions</a>
</header>
<main>
<p class="muted">{{ n_utterances }} utterances{% if duration %} · {{ duration }}{% endif %} ·
{{ n_episodes }} rupture episode(s), {{ n_resolved }} resolved</p>
<div class="cards">{% for s in scores %}<div class="card"><div class="name">{{ s.label }}</div>
<div class="value" style="color:{{ s.colour }}">{{ s.value }}</div>
<div class="band">95% band {{ s.lo }}–{{ s.hi }}</div>
<div class="bar"><div class="ci" style="left:{{ s.lo_pct }}%;width:{{ s.w_pct }}%"></div>
<div class="pt" style="left:{{ s.pct }}%"></div></div>
{% if s.calibrated is not none %}<div class="cal">calibrated: {{ s.calibrated }}</div>{% endif %}
</div>{% endfor %}</div>
<section><h2>Timeline</h2>
{{ svg }}
<div class="legend">{% for s in scales %}<span><i style="background:{{ s.colour }}"></i>{{ s.label }}</span>{% endfor %}
<span><i style="background:#e0b84a"></i>withdrawal episode</span><span><i style="background:#a66cc7"></i>confrontation
episode</span><span><i style="background:#c77d6c"></i>mixed</span><span>✓ resolved · ✗ unresolved (dashed)</span>
<span><i style="background:#a3001b"></i>harmful therapist code · ▼ worst moment</span></div>
<p class="muted">Segments of {{ segment_label }}; the grey band is the 95% band of the total. Click any mark to jump
to its utterances.</p>
</section>
<section><h2>Rupture episodes</h2>
{% if episodes %}<table class="grid" id="episodes"><thead><tr><th>#</th><th>when</th><th>family</th><th>markers</th>
<th>severity</th><th>therapist response</th><th>resolved</th></tr></thead><tbody>
{% for e in episodes %}<tr>
<td data-v="{{ e.episode }}"><a class="ep-link" data-ep="{{ e.episode }}" href="#u-{{ e.first_position }}">episode
{{ e.episode }}</a></td>
<td>{{ e.when }}</td><td>{{ e.family }}</td><td>{{ e.markers }}</td><td class="num">{{ e.severity }}</td>
<td>{{ e.response }}{% if e.helpful %}<br><span class="muted">helpful: {{ e.helpful }}</span>{% endif %}
{% if e.harmful %}<br><span class="muted">harmful: {{ e.harmful }}</span>{% endif %}</td>
<td>{% if e.resolved %}<span class="tag ok">resolved</span> <a href="#u-{{ e.resolved_position }}">re-engagement</a>
{% else %}<span class="tag no">unresolved</span>{% endif %}</td></tr>{% endfor %}
</tbody></table>{% else %}<p class="muted">No rupture episodes.</p>{% endif %}
</section>
<section><h2>Summary indicators (MITI-style)</h2>
<table class="grid"><tbody>{% for name, value in miti %}<tr><td>{{ name }}</td><td class="num">{{ value }}</td></tr>
{% endfor %}</tbody></table></section>
<section><h2>Transcript</h2>
<div class="legend">{% for fam, colours in families %}<span><i style="background:{{ colours[0] }}"></i>{{ fam }}</span>
{% endfor %}{% if unreliable %}<span><span class="code unreliable">faded</span> a code the model is unreliable on
(cross-validated F1 below 0.30): counted only as its family</span>{% endif %}</div>
<div id="transcript" data-filter="all">
{% for u in rows %}<div id="u-{{ u.position }}" class="{{ u.cls }}">
<div class="t">{{ u.time }}</div><div class="s" title="{{ u.speaker }}">{{ u.speaker }}</div>
<div>{% for b in u.badges %}<span class="badge {{ b.cls }}">{{ b.text }}</span>{% endfor %}{{ u.text }}
<div>{% for c in u.codes %}<span class="code f-{{ c.family }}{% if c.unreliable %} unreliable{% endif %}"
{%- if c.p or c.unreliable %} title="{% if c.p %}p = {{ c.p }}{% endif %}{% if c.unreliable %}{% if c.p %}; {% endif %}unreliable code: cross-validated F1 below 0.30, counted only as its family{% endif %}"{% endif %}>
{{- c.code }}</span>{% endfor %}</div>
</div></div>
{% endfor %}</div></section>
</main>
{% endblock %}
"""
