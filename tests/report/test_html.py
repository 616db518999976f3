"""The HTML report: escaping, no network, structure and links."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from coder.report.pages import page_names
from coder.rollup.scores import RollupConfig
from coder.rollup.tables import write_outputs
from tests.rollup.build import good_exchange, make_session, rupture
from tests.rollup.long_session import hand_coded_long_session

NASTY = 'I said <script>alert("x")</script> & <img src=https://evil.example/x.png onerror=alert(1)> "fine"'


class Collector(HTMLParser):
    """Every tag with its attributes, and every id."""

    def __init__(self):
        super().__init__()
        self.tags, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if "id" in attrs:
            self.ids.add(attrs["id"])


def parse(path) -> Collector:
    c = Collector()
    c.feed(path.read_text(encoding="utf-8"))
    return c


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    base = good_exchange(6)
    nasty = make_session(base[:4] + [("client", NASTY, ["neutral_talk", "c_complaint_therapist"])] + rupture()
                         + base[4:], sid='odd <id> & "name"/../x')
    write_outputs([hand_coded_long_session(), nasty], out, config=RollupConfig(n_boot=50))
    return out / "report"


def test_html_escapes_transcript_text_and_ids(report):
    pages = sorted(report.glob("session-*.html"))
    assert len(pages) == 2
    odd = [p for p in pages if "long_session" not in p.name][0]
    assert ".." not in odd.name.replace(".html", "") and "/" not in odd.name
    html = odd.read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;img src=" in html
    assert "odd &lt;id&gt; &amp; &#34;name&#34;/../x" in html
    scripts = [t for t, _ in parse(odd).tags if t == "script"]
    assert len(scripts) == 1  # only the page's own inline script


def test_html_loads_nothing_from_the_network(report):
    for page in report.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        without_text = re.sub(r"&lt;img src=https://evil\.example/x\.png", "", html)  # escaped transcript text
        assert not re.search(r"https?://", without_text), page.name
        assert "//cdn" not in html and "@import" not in html and "url(" not in html
        for tag, attrs in parse(page).tags:
            for name in ("src", "href", "action", "xlink:href", "data"):
                value = attrs.get(name) or ""
                assert not re.match(r"(?i)\s*(https?:|//|ftp:|ws)", value), (page.name, tag, name, value)
            assert tag not in ("link", "iframe", "img", "object", "embed")
        assert "default-src 'none'" in html  # Content-Security-Policy forbids fetching anything


def test_html_session_page_structure(report):
    page = report / "session-long_session.html"
    c = parse(page)
    assert "timeline" in c.ids and "transcript" in c.ids and "worst-link" in c.ids
    ep_links = [a for t, a in c.tags if t == "a" and "ep-link" in (a.get("class") or "")]
    assert len(ep_links) == 4  # two episodes, each in the timeline and in the table
    for a in ep_links + [a for t, a in c.tags if t == "a" and (a.get("href") or "").startswith("#")]:
        assert a["href"][1:] in c.ids, a  # every in-page link points at an element
    assert {a.get("value") for t, a in c.tags if t == "input"} == {"all", "ruptures", "harmful"}
    chips = {a["class"] for t, a in c.tags if t == "span" and (a.get("class") or "").startswith("code ")}
    assert {"code f-helpful", "code f-harmful", "code f-withdrawal", "code f-confrontation", "code f-neutral",
            "code f-talk_type"} <= chips
    html = page.read_text(encoding="utf-8")
    assert html.count('class="scale-') == 4 and "resolved" in html


def test_html_index_links_every_session_and_its_worst_moment(report):
    c = parse(report / "index.html")
    hrefs = [a["href"] for t, a in c.tags if t == "a"]
    pages = {p.name for p in report.glob("session-*.html")}
    assert pages <= set(hrefs)
    worst = [h for h in hrefs if "#u-" in h]
    assert worst and all(h.split("#")[0] in pages for h in worst)


def test_html_page_names_are_unique_and_safe():
    names = page_names(["a/b", "a_b", "A_B", "..", ""])
    assert len(set(n.lower() for n in names)) == 5
    assert all(re.fullmatch(r"session-[A-Za-z0-9._-]+\.html", n) for n in names)


def test_html_greys_out_codes_the_model_flags_unreliable(tmp_path):
    from dataclasses import replace

    cfg = RollupConfig(n_boot=0)
    cfg.mapping = replace(cfg.mapping, unreliable=("directing",))
    write_outputs([make_session(good_exchange(2) + rupture())], tmp_path, config=cfg)
    page = next(p for p in (tmp_path / "report").glob("*.html") if p.name != "index.html")
    chips = [a["class"] for tag, a in parse(page).tags
             if tag == "span" and "code" in a.get("class", "").split() and " f-" in f' {a["class"]}']
    flagged = [c for c in chips if "unreliable" in c.split()]
    assert flagged and all("f-harmful" in c for c in flagged)
    assert any("unreliable" not in c.split() for c in chips)
    assert "counted only as its family" in page.read_text(encoding="utf-8")
