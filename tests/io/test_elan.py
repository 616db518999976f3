"""ELAN: read without pympi's schema demands; dangling time slots name the annotation and line."""

from __future__ import annotations

from coder.pipeline import load_transcripts
from tests.conftest import FIXTURES, MINI

MINI_EAF = (FIXTURES / "mini.eaf").read_text(encoding="utf-8")


def _load(tmp_path, text):
    path = tmp_path / "s.eaf"
    path.write_text(text, encoding="utf-8")
    return path, load_transcripts([path])


def test_elan_without_xsi_attribute_is_read(tmp_path):
    """D10: ELAN without the xsi attribute gave "KeyError: '{http://www.w3.org/2001/XMLSchema-instance}…'"."""
    text = MINI_EAF.replace(' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"', "").replace(
        ' xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv3.0.xsd"', "")
    assert "xsi" not in text
    _, report = _load(tmp_path, text)
    assert report.failures == []
    assert [(u.turn_id, u.speaker, u.text) for u in report.sessions[0].utterances] == MINI


def test_elan_dangling_time_slot_names_annotation_and_line(tmp_path):
    """D10: an ELAN dangling time slot gave "KeyError: 'ts9'"."""
    text = MINI_EAF.replace('        <TIME_SLOT TIME_SLOT_ID="ts9" TIME_VALUE="32000"/>\n', "")
    path, report = _load(tmp_path, text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if 'ANNOTATION_ID="a5"' in l)
    assert report.failures == [f"{path}:{line}: annotation 'a5' in tier 'T' refers to time slot 'ts9', which the "
                               "TIME_ORDER does not define"]


def test_elan_unaligned_slots_keep_slot_order(tmp_path):
    text = MINI_EAF.replace('TIME_SLOT_ID="ts3" TIME_VALUE="9000"', 'TIME_SLOT_ID="ts3"').replace(
        'TIME_SLOT_ID="ts4" TIME_VALUE="20000"', 'TIME_SLOT_ID="ts4"')
    _, report = _load(tmp_path, text)
    assert [(u.turn_id, u.speaker, u.text) for u in report.sessions[0].utterances] == MINI


def test_elan_dependent_tier_words_are_counted(tmp_path):
    tier = ('<TIER TIER_ID="gloss" PARENT_REF="T" LINGUISTIC_TYPE_REF="t"><ANNOTATION><REF_ANNOTATION '
            'ANNOTATION_ID="r1" ANNOTATION_REF="a1"><ANNOTATION_VALUE>hola gracias por venir</ANNOTATION_VALUE>'
            "</REF_ANNOTATION></ANNOTATION></TIER>")
    _, report = _load(tmp_path, MINI_EAF.replace("<LINGUISTIC_TYPE ", tier + "<LINGUISTIC_TYPE ", 1))
    assert report.skipped == {"dependent tier": 1} and report.skipped_words == {"dependent tier": 4}
