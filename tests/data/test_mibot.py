"""MIBot labels: validation, whole conversations only, roles checked against the speakers."""

from __future__ import annotations

import json

import pytest

from coder.data.mibot import mibot_frame, read_mibot_labels
from coder.errors import InputError

HEADER = "participant_id,utterance_number,role,codes,annotator,guideline_version\n"


def _conversation(folder, pid, speakers):
    utts = [{"speaker": s, "volley_number": i, "utterance_number": 10 + i, "text": f"constructed line {i}"}
            for i, s in enumerate(speakers)]
    (folder / f"{pid}.json").write_text(json.dumps({"participant_id": pid, "utterances": utts}))


def test_mibot_frame_keeps_only_fully_labelled_conversations(tmp_path):
    conv = tmp_path / "conv"
    conv.mkdir()
    _conversation(conv, "p1", ["counsellor", "client"])
    _conversation(conv, "p2", ["counsellor", "client"])
    labels = tmp_path / "labels_a.csv"
    labels.write_text(HEADER + "p1,10,therapist,question_open,a,1.1\np1,11,client,neutral_talk;w_minimal_response,a,1.1\n"
                      "p2,10,therapist,,a,1.1\n")
    frame = mibot_frame(read_mibot_labels(labels), transcripts=conv)
    assert list(frame.example_id) == ["mibot:p1:10", "mibot:p1:11"]
    assert frame.iloc[1].context == ["[T] constructed line 0"]
    assert frame.iloc[1].codes == ["neutral_talk", "w_minimal_response"]


@pytest.mark.parametrize("row, message", [
    ("p1,10,client,w_denial,a,1.1\n", "talk type"),
    ("p1,10,therapist,w_denial,a,1.1\n", "not allowed"),
    ("p1,10,therapist,,a,1.1\np1,10,therapist,,a,1.1\n", "twice"),
])
def test_mibot_bad_labels_name_file_and_line(tmp_path, row, message):
    labels = tmp_path / "labels_a.csv"
    labels.write_text(HEADER + row)
    with pytest.raises(InputError, match=message) as err:
        read_mibot_labels(labels)
    assert "labels_a.csv" in str(err.value)


def test_mibot_role_must_match_speaker(tmp_path):
    _conversation(tmp_path, "p1", ["counsellor"])
    labels = tmp_path / "labels_a.csv"
    labels.write_text(HEADER + "p1,10,client,neutral_talk,a,1.1\n")
    with pytest.raises(InputError, match="spoken by counsellor"):
        mibot_frame(read_mibot_labels(labels), transcripts=tmp_path)
