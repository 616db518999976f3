"""The segment command end to end, through typer's CliRunner."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from coder.cli import app
from tests.conftest import FIXTURES, MINI

runner = CliRunner()


def test_cli_segment_writes_utterance_table(tmp_path):
    out = tmp_path / "utts.csv"
    result = runner.invoke(app, ["segment", str(FIXTURES / "mini.vtt"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["session_id", "utterance_id", "turn_id", "speaker", "role", "start", "end", "text"]
    assert frame["text"].tolist() == [t for _, _, t in MINI]
    assert "1 file(s): 1 session(s), 10 utterance(s) kept" in result.output


def test_cli_segment_stdout_and_tsv(tmp_path):
    result = runner.invoke(app, ["segment", str(FIXTURES / "mini.srt")])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "session_id,utterance_id,turn_id,speaker,role,start,end,text"
    out = tmp_path / "u.tsv"
    assert runner.invoke(app, ["segment", str(FIXTURES / "mini.srt"), "-o", str(out)]).exit_code == 0
    assert out.read_text().splitlines()[0].split("\t")[:2] == ["session_id", "utterance_id"]


def test_cli_segment_options(tmp_path):
    out = tmp_path / "u.csv"
    src = tmp_path / "odd.csv"
    src.write_text("Said,Who\nHello there.,Ana\nHi. I'm fine.,Ben\n")
    args = ["segment", str(src), "--column", "text=Said", "--column", "speaker=Who", "--therapist", "Ana",
            "--no-segment", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert frame[["speaker", "role", "text"]].values.tolist() == [["Ana", "therapist", "Hello there."],
                                                                  ["Ben", "client", "Hi. I'm fine."]]


def test_cli_segment_long_table_of_input_codes(tmp_path):
    src = tmp_path / "coded.jsonl"
    src.write_text('{"utterance_id": "a", "speaker": "T", "text": "How are you?", "codes": ["question_open"]}\n'
                   '{"utterance_id": "b", "speaker": "C", "text": "Fine.", "codes": "neutral_talk"}\n')
    long = tmp_path / "long.csv"
    result = runner.invoke(app, ["segment", str(src), "-o", str(tmp_path / "u.csv"), "--long", str(long),
                                 "--coder-id", "rater:1"])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(long).values.tolist() == [["coded", "a", "rater:1", "question_open", 1.0],
                                                 ["coded", "b", "rater:1", "neutral_talk", 1.0]]


def test_cli_formats_lists_every_reader():
    result = runner.invoke(app, ["formats"])
    assert result.exit_code == 0
    for name in ("text", "csv", "tsv", "jsonl", "json", "vtt", "srt", "whisper", "eaf", "docx"):
        assert any(line.startswith(name) for line in result.stdout.splitlines())


def test_cli_bad_column_option(tmp_path):
    result = runner.invoke(app, ["segment", str(FIXTURES / "mini.csv"), "--column", "text"])
    assert result.exit_code == 2
    assert "--column expects FIELD=NAME" in result.output


def test_cli_data_build_bad_annomi_path(tmp_path):
    result = runner.invoke(app, ["data", "build", "--out", str(tmp_path / "ds"), "--annomi", str(tmp_path / "no.csv")])
    assert result.exit_code == 2
    assert "no.csv" in result.output and "Traceback" not in result.output


def test_cli_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("segment", "formats", "data", "code", "merge", "train", "evaluate", "rollup", "calibrate", "review",
                 "agreement"):
        assert f" {name} " in result.stdout, name


def test_cli_segment_into_a_folder_is_one_line_exit_2(tmp_path):
    result = runner.invoke(app, ["segment", str(FIXTURES / "mini.txt"), "-o", str(tmp_path)])
    assert result.exit_code == 2 and result.output.strip() == f"{tmp_path}: is a folder; give a file name"
