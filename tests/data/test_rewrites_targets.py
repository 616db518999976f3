"""Leaving out rewrite groups by target code or family (``--rewrite-exclude``)."""

from __future__ import annotations

import pytest

from coder.data.rewrites import drop_targets, excluded_targets, read_rewrites
from coder.errors import InputError
from coder.scheme import FAMILIES

HEADER = "group_id,row,transcript_id,utterance_id,role,kind,target_code,codes,text,author\n"
ROWS = (
    'g1,0,7,2,therapist,positive,directing,directing,"You need to stop today, full stop.",a\n'
    'g1,1,7,3,client,positive,directing,c_reject_intervention;sustain_talk,"That will not work for me.",a\n'
    'g2,0,7,3,client,positive,w_minimal_response,w_minimal_response;neutral_talk,"Mm.",a\n'
    'g3,0,7,3,client,hard_negative,w_denial,neutral_talk,"I guess it was a hard week, yes.",a\n'
)


def test_rewrites_targets_family_drops_its_groups_with_their_hard_negatives(tmp_path):
    path = tmp_path / "rewrites_x.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    rewrites = read_rewrites(path)
    assert set(drop_targets(rewrites, ["withdrawal"]).group_id) == {"g1"}
    assert set(drop_targets(rewrites, ["w_denial"]).group_id) == {"g1", "g2"}
    assert len(drop_targets(rewrites, [])) == len(rewrites)
    assert excluded_targets(["withdrawal", "w_denial"]) == sorted(FAMILIES["withdrawal"])


def test_rewrites_targets_unknown_name_is_one_line():
    with pytest.raises(InputError, match="neither a code nor a family"):
        excluded_targets(["withdrawl"])
