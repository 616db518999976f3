"""The project's label files: validation, the key join with AnnoMI, the long table."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from coder.data.labels import (ANNOMI_CODER, REFERENCE_CODER, LabelError, final_codes, load_labels, long_table,
                               read_label_file)
from coder.frames import LONG_COLUMNS
from coder.scheme import codes_for_role

HEADER = "transcript_id,utterance_id,role,codes,annotator,guideline_version\n"
GOOD = ["1,0,therapist,affirmation,agent-x,1.0", "1,1,client,c_defend_self;w_denial,agent-x,1.0",
        "1,2,therapist,,agent-x,1.0"]
TINY_ANNOMI = pd.DataFrame({"transcript_id": ["1", "1", "1"], "utterance_id": ["0", "1", "2"],
                            "role": ["therapist", "client", "therapist"]})


def _write(tmp_path, lines, name="labels_agent-x.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_labels_read_valid_file(tmp_path):
    frame = read_label_file(_write(tmp_path, GOOD))
    assert frame.code_list.tolist() == [["affirmation"], ["c_defend_self", "w_denial"], []]
    assert frame.line.tolist() == [2, 3, 4]
    assert len(load_labels(tmp_path, annomi=TINY_ANNOMI)) == 3


@pytest.mark.parametrize("bad_line, lineno, message", [
    ("1,2,therapist,affirmaton,agent-x,1.0", 4, "unknown code"),
    ("1,2,therapist,w_denial,agent-x,1.0", 4, "not allowed on a therapist"),
    ("1,2,patient,,agent-x,1.0", 4, "not therapist or client"),
    ("1,1,client,,agent-x,1.0", 4, "labelled twice"),
])
def test_labels_corrupted_file_raises_with_file_and_line(tmp_path, bad_line, lineno, message):
    path = _write(tmp_path, GOOD[:2] + [bad_line])
    with pytest.raises(LabelError) as err:
        read_label_file(path)
    assert f"{path}:{lineno}" in str(err.value) and message in str(err.value)


def test_labels_role_mismatch_with_annomi_raises(tmp_path):
    path = _write(tmp_path, GOOD[:2] + ["1,2,client,,agent-x,1.0"])
    with pytest.raises(LabelError, match=rf"{path.name}:4: .*AnnoMI says therapist"):
        load_labels(tmp_path, annomi=TINY_ANNOMI)


def test_labels_unknown_utterance_raises(tmp_path):
    path = _write(tmp_path, GOOD + ["1,9,client,,agent-x,1.0"])
    with pytest.raises(LabelError, match=rf"{path.name}:5: .*does not exist in AnnoMI"):
        load_labels(tmp_path, annomi=TINY_ANNOMI)


def test_labels_missing_utterance_raises(tmp_path):
    _write(tmp_path, GOOD[:2])
    with pytest.raises(LabelError, match="1 AnnoMI utterance.*no label.*utterance 2"):
        load_labels(tmp_path, annomi=TINY_ANNOMI)
    assert len(load_labels(tmp_path, annomi=TINY_ANNOMI.iloc[:2])) == 2


def test_labels_same_utterance_in_two_files_raises(tmp_path):
    _write(tmp_path, GOOD)
    _write(tmp_path, ["1,1,client,,agent-y,1.0"], name="labels_agent-y.csv")
    with pytest.raises(LabelError, match="also labelled in"):
        load_labels(tmp_path)


@pytest.mark.parametrize("annomi_codes, project, auto, expected", [
    (["question_open"], ["collaboration"], False, ["question_open", "collaboration"]),
    (["collaboration"], [], True, ["collaboration"]),
    (["collaboration"], ["directing"], True, ["directing"]),
    (["collaboration"], ["directing", "collaboration"], True, ["collaboration", "directing"]),
    ([], ["directing"], False, ["directing"]),
    ([], [], False, []),
    (["change_talk"], ["c_reject_intervention"], False, ["change_talk", "c_reject_intervention"]),
])
def test_labels_final_codes_union_and_rules(annomi_codes, project, auto, expected):
    assert final_codes(annomi_codes, project, auto_collaboration=auto) == expected


def test_labels_every_utterance_labelled_once_with_annomi_role(annomi, first_pass):
    keys = ["transcript_id", "utterance_id"]
    assert len(first_pass) == len(annomi) == 7758
    assert not first_pass.duplicated(keys).any()
    merged = first_pass.merge(annomi[keys + ["role"]], on=keys, suffixes=("", "_annomi"), validate="one_to_one")
    assert len(merged) == len(annomi) and (merged.role == merged.role_annomi).all()
    assert first_pass.guideline_version.eq("1.0").all()


def test_labels_join_attaches_each_label_to_its_utterance(annomi, first_pass, joined):
    keys = ["transcript_id", "utterance_id"]
    assert len(joined) == len(annomi)
    check = joined.merge(first_pass[keys + ["code_list", "annotator"]], on=keys, suffixes=("", "_file"))
    assert len(check) == len(joined)
    from coder.data.labels import read_recode
    from coder.scheme import WITHDRAWAL

    def others(codes):
        return frozenset(c for c in codes if c not in WITHDRAWAL)

    assert (check.project_codes.map(others) == check.code_list.map(others)).all()
    recode = read_recode()
    if len(recode):  # withdrawal codes come from the guideline-1.1 recode where there is one
        rec = check.merge(recode[keys + ["code_list"]], on=keys, suffixes=("", "_recode"))
        mine = rec.project_codes.map(lambda c: frozenset(x for x in c if x in WITHDRAWAL))
        assert len(rec) and (mine == rec.code_list_recode.map(frozenset)).all()
    assert (check.annotator == check.annotator_file).all()
    texts = joined.merge(annomi[keys + ["text", "order"]], on=keys, suffixes=("", "_annomi"))
    assert (texts.text == texts.text_annomi).all() and (texts.order == texts.order_annomi).all()


def test_labels_join_preserves_code_counts(first_pass, joined):
    from coder.data.labels import apply_recode, read_recode

    in_files = Counter(c for cs in apply_recode(first_pass, read_recode()).code_list for c in cs)
    final = Counter(c for cs in joined.codes for c in cs)
    from_annomi = Counter(c for cs in joined.annomi_codes for c in cs)
    for code, n in in_files.items():
        assert final[code] >= n, code
        if code != "collaboration":
            assert final[code] == n + from_annomi[code], code
    assert all(c in codes_for_role(r) for cs, r in zip(joined.codes, joined.role) for c in cs)


def test_labels_directing_only_where_project_coded_it(joined):
    project_directing = joined.project_codes.map(lambda cs: "directing" in cs)
    final_directing = joined.codes.map(lambda cs: "directing" in cs)
    assert (project_directing == final_directing).all()
    assert joined[joined.advice_candidate & ~project_directing].shape[0] > 0


def test_labels_long_table_has_coders_and_dense_rows(joined, first_pass, second_pass):
    long = long_table(joined, first_pass, second_pass)
    assert list(long.columns) == LONG_COLUMNS
    coders = set(long.coder_id)
    assert {ANNOMI_CODER, REFERENCE_CODER, "agent-b1"} | {f"agent-a{i}" for i in range(1, 7)} <= coders
    ref = long[long.coder_id == REFERENCE_CODER]
    n_dense = sum(len(codes_for_role(r)) for r in joined.role)
    assert len(ref) == n_dense and ref.score.sum() == sum(len(cs) for cs in joined.codes)
    b1 = long[long.coder_id == "agent-b1"]
    assert b1.score.sum() == sum(len(cs) for cs in second_pass.code_list)
    assert not b1.code.isin(["question_open", "reflection_simple", "change_talk"]).any()


def _recode_file(tmp_path, body):
    path = tmp_path / "labels_w.csv"
    path.write_text("transcript_id,utterance_id,codes,annotator,guideline_version\n" + body, encoding="utf-8")
    return path


def test_labels_recode_replaces_only_the_family_codes(tmp_path):
    import pandas as pd

    from coder.data.labels import apply_recode, read_recode

    labels = pd.DataFrame({
        "transcript_id": ["1", "1", "1"], "utterance_id": ["0", "1", "2"], "role": ["therapist", "client", "client"],
        "code_list": [["directing"], ["w_deferential", "c_defend_self"], []], "guideline_version": ["1.0"] * 3,
        "codes": ["directing", "w_deferential;c_defend_self", ""],
    })
    recode = read_recode(_recode_file(tmp_path, "1,1,,w,1.1\n1,2,w_denial,w,1.1\n"))
    out = apply_recode(labels, recode)
    assert list(out.code_list) == [["directing"], ["c_defend_self"], ["w_denial"]]
    assert list(out.guideline_version) == ["1.0", "1.0+withdrawal:1.1", "1.0+withdrawal:1.1"]


@pytest.mark.parametrize("body, message", [
    ("1,1,c_defend_self,w,1.1\n", "not one this recode covers"),
    ("1,1,,w,1.1\n1,1,,w,1.1\n", "twice"),
])
def test_labels_recode_bad_rows_name_file_and_line(tmp_path, body, message):
    from coder.data.labels import LabelError, read_recode

    with pytest.raises(LabelError, match=message) as err:
        read_recode(_recode_file(tmp_path, body))
    assert "labels_w.csv" in str(err.value)


def test_labels_recode_must_cover_every_client_utterance(tmp_path):
    import pandas as pd

    from coder.data.labels import LabelError, apply_recode, read_recode

    labels = pd.DataFrame({"transcript_id": ["1", "1"], "utterance_id": ["1", "2"], "role": ["client", "client"],
                           "code_list": [[], []], "guideline_version": ["1.0"] * 2, "codes": ["", ""]})
    with pytest.raises(LabelError, match="is recoded but utterance 1#2 is not"):
        apply_recode(labels, read_recode(_recode_file(tmp_path, "1,1,,w,1.1\n")))
