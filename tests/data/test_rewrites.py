"""Counterfactual rewrites: validation, real context by id, and anchoring to the source transcript."""

from __future__ import annotations

import pandas as pd
import pytest

from coder.data.rewrites import read_rewrites, rewrite_frame
from coder.errors import InputError

HEADER = "group_id,row,transcript_id,utterance_id,role,kind,target_code,codes,text,author\n"
GOOD = (
    'g1,0,7,2,therapist,positive,directing,directing,"You need to stop today, full stop.",a\n'
    'g1,1,7,3,client,positive,directing,c_reject_intervention;sustain_talk,"That is not going to work for me.",a\n'
    'g2,0,7,2,therapist,hard_negative,directing,collaboration,"Would it be okay if I shared an idea?",a\n'
)
JOINED = pd.DataFrame({
    "transcript_id": ["7"] * 4, "utterance_id": ["0", "1", "2", "3"], "order": [0, 1, 2, 3],
    "role": ["therapist", "client", "therapist", "client"],
    "text": ["Hello there.", "Hi, I smoke a lot.", "(real turn)", "(real reply)"],
})


def _write(tmp_path, body):
    path = tmp_path / "rewrites_x.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_rewrites_context_is_real_history_then_group_rows(tmp_path):
    frame = rewrite_frame(read_rewrites(_write(tmp_path, GOOD)), JOINED)
    first, second = frame.iloc[0], frame.iloc[1]
    assert first.context == ["[T] Hello there.", "[C] Hi, I smoke a lot."]
    assert second.context[-1] == "[T] You need to stop today, full stop."
    assert set(frame.transcript_id) == {"7"} and set(frame.source) == {"rewrite"}
    assert "(real turn)" not in " ".join(second.context)


@pytest.mark.parametrize("row, message", [
    ('g1,0,7,2,therapist,positive,directing,w_denial,"x",a\n', "not allowed"),
    ('g1,0,7,3,client,positive,c_defend_self,c_defend_self,"x",a\n', "exactly one talk type"),
    ('g1,0,7,2,therapist,maybe,directing,directing,"x",a\n', "kind"),
    ('g1,0,7,2,therapist,positive,directing,information,"x",a\n', "target"),
    ('g1,0,7,2,therapist,positive,directing,directing,"",a\n', "empty text"),
])
def test_rewrites_bad_rows_name_file_and_line(tmp_path, row, message):
    with pytest.raises(InputError, match=message) as err:
        read_rewrites(_write(tmp_path, row))
    assert "rewrites_x.csv" in str(err.value) and ":2" in str(err.value)


def test_rewrites_role_must_match_the_real_utterance(tmp_path):
    body = 'g1,0,7,1,therapist,positive,directing,directing,"You must.",a\n'
    with pytest.raises(InputError, match="client's"):
        rewrite_frame(read_rewrites(_write(tmp_path, body)), JOINED)
