"""``coder.tables_io``: the one reader and writer of utterances.csv and codes_long.csv."""

from __future__ import annotations

import pandas as pd
import pytest

from coder.errors import InputError
from coder.session import Session, Utterance
from coder.tables_io import (coded_frame, concat_csv, iter_coded, read_coded, read_utterance_frame, sessions_from_frame,
                             write_frame)


def _session(sid: str, texts: list[str]) -> Session:
    utts = [Utterance(sid, str(i), i, "T" if i % 2 == 0 else "C", "therapist" if i % 2 == 0 else "client",
                      float(i), None, text, ["question_open"] if i % 2 == 0 else ["neutral_talk"],
                      {"proba": {"question_open": 0.75} if i % 2 == 0 else {"neutral_talk": 0.5}})
            for i, text in enumerate(texts)]
    return Session(sid, utts)


def test_tables_io_round_trip_keeps_na_text_and_probabilities(tmp_path):
    sessions = [_session("a", ["NA", "null", "Hello, there."]), _session("b", ["None", ""])]
    write_frame(coded_frame(sessions), tmp_path / "utterances.csv")
    back = read_coded(tmp_path)
    assert [u.text for s in back for u in s.utterances] == ["NA", "null", "Hello, there.", "None", ""]
    assert back[0].utterances[0].meta["proba"] == {"question_open": 0.75}
    assert back[0].utterances[1].role == "client" and back[0].utterances[1].end is None
    assert [s.id for s in iter_coded(tmp_path, chunksize=2)] == ["a", "b"]
    in_memory = sessions_from_frame(read_utterance_frame(tmp_path))
    assert [u.__dict__ for s in in_memory for u in s.utterances] == [u.__dict__ for s in back for u in s.utterances]
    assert not list(tmp_path.glob(".*.tmp"))


def test_tables_io_iter_coded_refuses_split_sessions(tmp_path):
    frame = coded_frame([_session("a", ["x"]), _session("b", ["y"]), _session("a", ["z"])])
    frame.loc[2, "utterance_id"] = "9"
    write_frame(frame, tmp_path / "utterances.csv")
    with pytest.raises(InputError, match="rows of session 'a' are not together"):
        list(iter_coded(tmp_path))


def test_tables_io_concat_csv_checks_headers(tmp_path):
    write_frame(pd.DataFrame({"a": [1], "b": [2]}), tmp_path / "1.csv")
    write_frame(pd.DataFrame({"a": [3], "b": [4]}), tmp_path / "2.csv")
    concat_csv([tmp_path / "1.csv", tmp_path / "2.csv"], tmp_path / "all.csv", ["a", "b"])
    assert (tmp_path / "all.csv").read_text() == "a,b\n1,2\n3,4\n"
    write_frame(pd.DataFrame({"b": [5]}), tmp_path / "3.csv")
    with pytest.raises(InputError, match="unexpected header"):
        concat_csv([tmp_path / "3.csv"], tmp_path / "bad.csv", ["a", "b"])
    assert not (tmp_path / "bad.csv").exists() and not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_tables_io_atomic_files_get_the_umask_mode(tmp_path, mask):
    """Atomic writes end with the mode any new file gets (mkstemp alone would make them 0600)."""
    import os

    from coder.tables_io import write_text

    old = os.umask(mask)
    try:
        write_text("x", tmp_path / "atomic.csv")
        (tmp_path / "plain.csv").write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "atomic.csv").stat().st_mode & 0o777 == (tmp_path / "plain.csv").stat().st_mode & 0o777
