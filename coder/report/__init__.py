"""The offline HTML report: ``DIR/report/index.html`` and one self-contained page per session.

Every page carries its CSS, JavaScript and SVG inline and a Content-Security-Policy that forbids
fetching anything, so the report opens from a file share or an e-mail attachment with no network.
Transcript text is escaped by Jinja2's autoescaping.

Each session page shows the four scores with their bands, an SVG timeline of the scales over
segments and of the rupture episodes, the episode table (each episode a link to its first
utterance), the MITI-style indicators and the transcript with colour-coded codes, filters (only
ruptures, only harmful behaviours) and a "worst moment" button (also the ``W`` key).
"""

from coder.report.pages import write_report

__all__ = ["write_report"]
