"""``alliance-coder review``: batch import/export options, and the launch line (server stubbed)."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

import coder.cli_review  # noqa: F401 - registers review and agreement on coder.cli.app
from coder.cli import app
from coder.review.app import ReviewServer
from coder.review.store import Store

runner = CliRunner()


def test_cli_review_exports_and_imports_without_serving(coded_dir, tmp_path):
    tasks = tmp_path / "ls" / "tasks.json"
    result = runner.invoke(app, ["review", str(coded_dir), "--export-labelstudio", str(tasks)])
    assert result.exit_code == 0, result.output
    assert len(json.loads(tasks.read_text())) == 9 and (tmp_path / "ls" / "tasks.label_config.xml").is_file()
    db = coded_dir / "corrections.sqlite"
    assert db.is_file()  # the default database sits beside the coded output

    csv = tmp_path / "in.csv"
    csv.write_text("session_id,utterance_id,codes\ns1,u000,question_open;affirmation\n")
    result = runner.invoke(app, ["review", str(coded_dir), "--import-csv", str(csv), "--annotator", "gus"])
    assert result.exit_code == 0 and "1 correction(s) added" in result.output
    out = tmp_path / "labels.csv"
    result = runner.invoke(app, ["review", str(coded_dir), "--export-csv", str(out)])
    assert result.exit_code == 0
    assert pd.read_csv(out)[["annotator", "codes"]].values.tolist() == [["gus", "question_open;affirmation"]]

    export = [{"data": {"session_id": "s1", "utterance_id": "u001"}, "annotations": [
        {"id": 1, "completed_by": {"email": "hal"}, "result": [{"type": "choices",
                                                               "value": {"choices": ["sustain_talk"]}}]}]}]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    other_db = tmp_path / "elsewhere.sqlite"
    result = runner.invoke(app, ["review", str(coded_dir), "--db", str(other_db), "--import-labelstudio", str(path)])
    assert result.exit_code == 0, result.output
    assert Store(other_db).current_labels()["annotator"].tolist() == ["hal"]


def test_cli_review_bad_input_exits_2(tmp_path, coded_dir):
    result = runner.invoke(app, ["review", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "no coded utterances here" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("session_id,utterance_id,codes\ns1,u001,question_open\n")
    result = runner.invoke(app, ["review", str(coded_dir), "--import-csv", str(bad), "--annotator", "x"])
    assert result.exit_code == 2 and "not allowed on a client utterance" in result.output


def test_cli_review_prints_tokenised_loopback_url(coded_dir, monkeypatch):
    served = {}

    def fake_serve(self):
        served["url"] = self.url
        self.server.server_close()

    monkeypatch.setattr(ReviewServer, "serve_forever", fake_serve)
    result = runner.invoke(app, ["review", str(coded_dir), "--annotator", "ida", "--no-browser"])
    assert result.exit_code == 0, result.output
    assert served["url"].startswith("http://127.0.0.1:") and "/?token=" in served["url"]
    assert f"open {served['url']}" in result.output
    assert "annotator ida: 0 / 9 reviewed" in result.output
