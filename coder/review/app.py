"""The local review web app (Flask): one session at a time, keyboard first, bound to 127.0.0.1.

Every request needs the per-launch access token: in the URL once (``?token=…``, which sets
an HttpOnly, SameSite=Strict cookie and redirects to the clean URL), then from the cookie;
saves also send it in the ``X-Review-Token`` header. Requests whose ``Host`` is not the
loopback address are refused (no DNS rebinding). Every page carries a banner when corrections
no longer match the coded table (orphaned) or could not be verified; a save names the text
fingerprint it was made on and is refused if the table changed under the page. Pages are plain
HTML with one local script and one local stylesheet; nothing is fetched from elsewhere.

Routes
------
``/``                      sessions with progress, and the top of the closest-call-first queue
``/session/<id>``          the transcript with model codes, confidences and your labels
``/next``                  the least certain utterance you have not reviewed yet
``POST /api/label``        save ``{session_id, utterance_id, codes, text_hash}``; answers progress
``GET /api/progress``      ``{reviewed, total}`` overall (and for ``?session_id=``)
"""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, render_template, request, url_for

from coder.review.definitions import DEFINITIONS, TOGGLE_KEYS, code_table, key_map
from coder.review.margins import describe
from coder.review.store import FAMILY_LABELS, ReviewError, Store, annotator_name
from coder.scheme import codes_for_role

COOKIE = "review_token"
HEADER = "X-Review-Token"
LOOPBACK = "127.0.0.1"

#: Keyboard shortcuts, as documented on every page (the script implements them).
SHORTCUTS = [
    ("↓ / j", "next utterance"),
    ("↑ / k", "previous utterance"),
    ("1–0, q w e r t y i", "toggle the code shown with that key on the selected utterance (add or remove it)"),
    ("Enter", "save the codes as shown and move to the next utterance you have not reviewed"),
    ("a", "accept the model's codes, save, and move on"),
    ("Esc", "undo unsaved changes on this utterance"),
    ("n / p", "next / previous session"),
    ("u", "jump to the least certain utterance you have not reviewed (across sessions)"),
    ("?", "show or hide this help"),
]


@dataclass
class AppConfig:
    """Settings of one launch.

    Attributes
    ----------
    annotator : str
        Who is correcting (stored as ``annotator:NAME`` in the long table).
    token : str
        Access token; a fresh random one per launch by default.
    queue_preview : int
        Uncertain utterances listed on the start page.
    """

    annotator: str
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    queue_preview: int = 15


def create_app(store: Store, config: AppConfig) -> Flask:
    """The Flask application serving ``store`` for ``config.annotator``."""
    app = Flask(__name__)
    app.config.update(JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=1 << 20)
    name = annotator_name(config.annotator)
    allowed_hosts: set[str] = set()

    def token_ok(value: str | None) -> bool:
        return bool(value) and hmac.compare_digest(value.encode(), config.token.encode())

    @app.before_request
    def guard():
        host = request.host.rsplit(":", 1)[0] if request.host else ""
        if host not in (LOOPBACK, "localhost") and request.host not in allowed_hosts:
            abort(403, "this app answers on 127.0.0.1 only")
        if token_ok(request.args.get("token")) and request.method == "GET":
            args = {k: v for k, v in request.args.items() if k != "token"}
            response = redirect(request.path + (f"?{urlencode(args)}" if args else ""))
            response.set_cookie(COOKIE, config.token, httponly=True, samesite="Strict", path="/")
            return response
        if request.method == "POST" and not token_ok(request.headers.get(HEADER)):
            abort(403, "missing or wrong access token")
        if not token_ok(request.cookies.get(COOKIE)) and not token_ok(request.headers.get(HEADER)):
            abort(403, "this page needs the access token: open the link with ?token=… that "
                       "`alliance-coder review` printed")

    @app.after_request
    def headers(response):
        response.headers["Content-Security-Policy"] = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                                       "img-src 'self'; connect-src 'self'; frame-ancestors 'none'")
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        if response.mimetype == "text/html":
            response.headers["Cache-Control"] = "no-store"
        return response

    def common(**extra) -> dict:
        reviewed, total = store.progress(name)
        return {"annotator": name, "token": config.token, "reviewed": reviewed, "total": total,
                "shortcuts": SHORTCUTS, "codes": code_table(), "attachment": store.attachment(), **extra}

    @app.get("/")
    def index():
        rows = []
        for sid in store.sessions():
            done, total = store.progress(name, sid)
            rows.append({"session_id": sid, "reviewed": done, "total": total})
        queue = store.uncertain_queue(name, limit=config.queue_preview).to_dict("records")
        for q in queue:
            q["decision_text"] = describe(q["decision"])
        return render_template("index.html", sessions=rows, queue=queue,
                               rules=store.meta().get("decision_rules", "default"), **common())

    @app.get("/favicon.ico")
    def favicon():
        return "", 204

    @app.get("/next")
    def next_uncertain():
        queue = store.uncertain_queue(name, limit=1)
        if queue.empty:
            return redirect(url_for("index"))
        row = queue.iloc[0]
        return redirect(url_for("session", session_id=row.session_id, focus=row.utterance_id, queue=1))

    @app.get("/session/<session_id>")
    def session(session_id: str):
        sessions = store.sessions()
        if session_id not in sessions:
            abort(404, f"no session {session_id!r}")
        at = sessions.index(session_id)
        utts = store.utterances(session_id)
        mine = store.current_labels(name)
        mine = {r.utterance_id: (r.codes, bool(r.verified)) for r in mine[mine.session_id == session_id].itertuples()}
        rows = [_row(u, mine) for u in utts.itertuples(index=False)]
        if request.args.get("order") == "uncertain":
            rows.sort(key=lambda r: (r["margin"] is None, r["margin"] or 0.0))
        done, total = store.progress(name, session_id)
        return render_template(
            "session.html", session_id=session_id, rows=rows, session_reviewed=done, session_total=total,
            prev_session=sessions[at - 1] if at > 0 else None,
            next_session=sessions[at + 1] if at + 1 < len(sessions) else None, position=at + 1,
            n_sessions=len(sessions), focus=request.args.get("focus", ""), order=request.args.get("order", ""),
            **common())

    @app.post("/api/label")
    def label():
        data = request.get_json(silent=True) or {}
        try:
            codes = data.get("codes", [])
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise ReviewError(None, "codes must be a list of code names")
            saved = store.save_correction(name, str(data["session_id"]), str(data["utterance_id"]), codes,
                                          note=str(data.get("note", ""))[:500],
                                          text_hash=str(data["text_hash"]) if data.get("text_hash") else None)
        except KeyError as err:
            return jsonify({"ok": False, "error": f"missing field {err}"}), 400
        except ReviewError as err:
            return jsonify({"ok": False, "error": err.message}), 400
        reviewed, total = store.progress(name)
        s_done, s_total = store.progress(name, saved["session_id"])
        return jsonify({"ok": True, "id": saved["id"], "codes": saved["new_codes"].split(";") if saved["new_codes"]
                        else [], "created_at": saved["created_at"], "reviewed": reviewed, "total": total,
                        "session_reviewed": s_done, "session_total": s_total})

    @app.get("/api/progress")
    def progress():
        reviewed, total = store.progress(name)
        out = {"annotator": name, "reviewed": reviewed, "total": total}
        if request.args.get("session_id"):
            out["session_reviewed"], out["session_total"] = store.progress(name, request.args["session_id"])
        return jsonify(out)

    app.extensions["review"] = {"store": store, "config": config, "allowed_hosts": allowed_hosts}
    return app


def _row(u, mine: dict[str, tuple[list[str], bool]]) -> dict:
    """Template data of one utterance: its chips (every code its role allows) and state."""
    allowed = codes_for_role(u.role)
    keys = {code: key for key, code in key_map(u.role).items()}
    reviewed = u.utterance_id in mine
    current = set(mine[u.utterance_id][0]) if reviewed else set(u.model_codes)
    margin = None if u.margin is None or u.margin != u.margin else float(u.margin)
    chips = [{"code": c, "key": keys.get(c, ""), "p": u.proba.get(c), "model": c in u.model_codes,
              "on": c in current, "definition": DEFINITIONS.get(c, ""), "talk": c.endswith("_talk")}
             for c in allowed]
    return {"utterance_id": u.utterance_id, "speaker": u.speaker, "role": u.role or "", "text": u.text,
            "chips": chips, "reviewed": reviewed,
            "families": [{"name": f, "p": u.proba[f], "on": f in u.model_families}
                         for f in FAMILY_LABELS if f in u.proba], "model_codes": ";".join(u.model_codes),
            "codes": ";".join(c for c in allowed if c in current), "margin": margin,
            "decision": describe(u.decision), "text_hash": u.text_hash,
            "verified": mine[u.utterance_id][1] if reviewed else True, "reviewable": bool(allowed)}


class ReviewServer:
    """The app on a werkzeug server in a background thread, bound to 127.0.0.1.

    Parameters
    ----------
    store : Store
    config : AppConfig
    port : int
        0 picks a free port.

    Use as a context manager, or :meth:`start` / :meth:`stop`; :attr:`url` carries the token.
    """

    def __init__(self, store: Store, config: AppConfig, port: int = 0):
        from werkzeug.serving import make_server

        self.app = create_app(store, config)
        self.config = config
        self.server = make_server(LOOPBACK, port, self.app, threaded=True)
        self.port = self.server.server_port
        self.app.extensions["review"]["allowed_hosts"].add(f"{LOOPBACK}:{self.port}")
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """The start page with the access token."""
        return f"{self.base_url}/?token={self.config.token}"

    def start(self) -> "ReviewServer":
        self.thread = threading.Thread(target=self.server.serve_forever, name="review-server", daemon=True)
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        try:
            self.server.serve_forever()
        finally:
            self.server.server_close()

    def stop(self) -> None:
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join(timeout=10)
            self.thread = None
        self.server.server_close()

    def __enter__(self) -> "ReviewServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


__all__ = ["AppConfig", "ReviewServer", "SHORTCUTS", "TOGGLE_KEYS", "create_app"]
