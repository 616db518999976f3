"""The review app through Flask's test client, and its server on 127.0.0.1."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from coder.review.app import AppConfig, ReviewServer, create_app

TOKEN = "test-token"


@pytest.fixture
def client(store):
    app = create_app(store, AppConfig(annotator="alice", token=TOKEN))
    c = app.test_client()
    c.get(f"/?token={TOKEN}")
    return c


def _save(client, uid, codes, token=TOKEN, sid="s1"):
    return client.post("/api/label", json={"session_id": sid, "utterance_id": uid, "codes": codes},
                       headers={"X-Review-Token": token} if token else {})


def test_app_needs_the_token(store):
    c = create_app(store, AppConfig(annotator="alice", token=TOKEN)).test_client()
    assert c.get("/").status_code == 403
    assert c.get("/session/s1").status_code == 403
    assert c.get("/static/review.js").status_code == 403
    assert c.get("/?token=wrong").status_code == 403
    r = c.get(f"/session/s1?token={TOKEN}&focus=u003")
    assert r.status_code == 302 and r.headers["Location"] == "/session/s1?focus=u003"
    assert "HttpOnly" in r.headers["Set-Cookie"] and "SameSite=Strict" in r.headers["Set-Cookie"]
    assert c.get("/session/s1").status_code == 200
    assert c.get("/", headers={"Host": "attacker.example"}).status_code == 403


def test_app_fresh_token_per_launch(store):
    assert AppConfig("a").token != AppConfig("a").token and len(AppConfig("a").token) >= 32


def test_app_session_page_shows_codes_confidence_definitions_shortcuts(client):
    html = client.get("/session/s1").get_data(as_text=True)
    assert 'data-code="question_open"' in html and "0.91" in html
    assert 'title="Open question: asks for the client' in html
    assert "Keyboard shortcuts" in html and "accept the model" in html
    assert 'reviewed <b id="reviewed">0</b> / <b id="total">9</b>' in html
    assert "https://" not in html and "http://" not in html  # nothing fetched from elsewhere
    r = client.get("/session/s1")
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert client.get("/session/nope").status_code == 404


def test_app_save_updates_progress_and_page(client, store):
    r = _save(client, "u001", ["sustain_talk", "c_complaint_parameters"])
    assert r.status_code == 200
    data = r.get_json()
    assert data["ok"] and data["reviewed"] == 1 and data["total"] == 9 and data["session_reviewed"] == 1
    assert store.current_labels("alice")["new_codes"].tolist() == ["sustain_talk;c_complaint_parameters"]
    html = client.get("/session/s1").get_data(as_text=True)
    assert 'data-saved="sustain_talk;c_complaint_parameters"' in html


def test_app_save_refuses_bad_requests(client, store):
    assert _save(client, "u001", ["question_open"]).status_code == 400
    assert "not allowed" in _save(client, "u001", ["question_open"]).get_json()["error"]
    assert _save(client, "u001", "change_talk").status_code == 400
    assert _save(client, "u001", ["change_talk"], token=None).status_code == 403
    assert _save(client, "u001", ["change_talk"], token="nope").status_code == 403
    assert client.post("/api/label", json={"codes": []}, headers={"X-Review-Token": TOKEN}).status_code == 400
    assert store.audit_trail().empty


def test_app_uncertain_first_queue(client):
    r = client.get("/next")
    assert r.status_code == 302 and r.headers["Location"] == "/session/s1?focus=u003&queue=1"
    index = client.get("/").get_data(as_text=True)
    assert index.index("Not really.") < index.index("What brings you here today?")
    _save(client, "u003", ["neutral_talk"])
    assert client.get("/next").headers["Location"] == "/session/s2?focus=u002&queue=1"
    order = client.get("/session/s1?order=uncertain").get_data(as_text=True)
    assert order.index('id="u-u002"') < order.index('id="u-u000"')
    assert client.get("/api/progress?session_id=s1").get_json() == {
        "annotator": "alice", "reviewed": 1, "total": 9, "session_reviewed": 1, "session_total": 6}


def test_app_server_binds_loopback_and_stops(store):
    server = ReviewServer(store, AppConfig(annotator="alice", token=TOKEN), port=0)
    assert server.server.server_address[0] == "127.0.0.1"
    assert server.url == f"http://127.0.0.1:{server.port}/?token={TOKEN}"
    with server:
        request = urllib.request.Request(f"{server.base_url}/api/progress", headers={"X-Review-Token": TOKEN})
        with urllib.request.urlopen(request, timeout=10) as r:
            assert json.load(r)["total"] == 9
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{server.base_url}/api/progress", timeout=10)
    assert server.thread is None
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{server.base_url}/api/progress", timeout=2)
