"""De-identifying sessions with the Presidio engine (skipped only where Presidio is not installed)."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("presidio_analyzer")

from coder.deid import DeidConfig, Deidentifier, deidentify_sessions  # noqa: E402
from coder.deid.deidentify import is_name_label  # noqa: E402
from coder.session import Session, Utterance  # noqa: E402

LINES = [
    ("Dr. Maya Rivera", "therapist", "Hi Tom, good to see you. Call me Maya, please."),
    ("Tom Okafor", "client", "Thanks, Maya. My wife Adaeze said I should come, we moved to Tucson on March 3rd."),
    ("Dr. Maya Rivera", "therapist", "Will Adaeze join us? You can reach the desk at 617-555-0199."),
    ("Tom Okafor", "client", "May I ask... my grandmother is 94 and I hope Adaeze comes. "
                             "Email me at tom.okafor@example.org, my MRN is 00482913."),
]
VALUES = ["Maya", "Rivera", "Tom", "Okafor", "Adaeze", "Tucson", "March 3rd", "617-555-0199", "94",
          "tom.okafor@example.org", "00482913"]


def _session(lines=LINES, sid="s1") -> Session:
    return Session(sid, [Utterance(sid, str(i), i, sp, role, None, None, text) for i, (sp, role, text)
                         in enumerate(lines)])


@pytest.fixture(scope="module")
def result():
    return Deidentifier(DeidConfig()).deidentify_session(_session())


def test_deidentify_removes_every_planted_value(result):
    new, _audit = result
    text = " ".join(u.text for u in new.utterances) + " ".join(u.speaker for u in new.utterances)
    for value in VALUES:
        assert value not in text, value


def test_deidentify_keeps_ordinary_words_that_are_names(result):
    new, _ = result
    assert new.utterances[2].text.startswith("Will [NAME_")
    assert new.utterances[3].text.startswith("May I ask")
    assert "I hope [NAME_" in new.utterances[3].text


def test_deidentify_speaker_label_matches_mentions_and_keeps_role(result):
    new, audit = result
    therapist = new.utterances[0]
    assert therapist.speaker == "[NAME_1]" and therapist.role == "therapist"
    assert "Call me [NAME_1]" in therapist.text and "Thanks, [NAME_1]" in new.utterances[1].text
    assert new.utterances[1].speaker == "[NAME_2]" and "Hi [NAME_2]" in therapist.text
    assert set(new.speakers) == {"[NAME_1]", "[NAME_2]"}
    assert audit["speaker_labels"] == 2


def test_deidentify_placeholders_consistent_and_typed(result):
    new, _ = result
    texts = [u.text for u in new.utterances]
    wife = texts[1].split("My wife ")[1].split()[0]
    assert wife.startswith("[NAME_") and wife in texts[2] and wife in texts[3]
    for placeholder in ("[LOCATION_1]", "[DATE_1]", "[PHONE_1]", "[AGE_1]", "[EMAIL_1]", "[ID_1]"):
        assert placeholder in " ".join(texts), placeholder


def test_deidentify_audit_counts_without_values(result):
    _, audit = result
    assert audit["NAME"] >= 6 and audit["PHONE"] == 1 and audit["EMAIL"] == 1 and audit["ID"] == 1
    assert audit["n_utterances"] == 4
    flat = " ".join(str(v) for v in audit.values())
    for value in VALUES:
        assert value not in flat


def test_deidentify_leaves_input_untouched(result):
    original = _session()
    Deidentifier().deidentify_session(original)
    assert [u.text for u in original.utterances] == [t for _, _, t in LINES]
    assert original.utterances[0].speaker == "Dr. Maya Rivera"


def test_deidentify_placeholders_restart_per_session():
    a = _session(sid="a")
    b = _session([("Therapist", "therapist", "How is your sister Priya?"), ("Client", "client", "Priya is fine.")], sid="b")
    clean, audit = deidentify_sessions([a, b])
    assert clean[1].utterances[0].text == "How is your sister [NAME_1]?"
    assert clean[1].utterances[1].text == "[NAME_1] is fine."
    assert clean[1].utterances[0].speaker == "Therapist"
    assert list(audit.session_id) == ["a", "b"] and audit.loc[1, "speaker_labels"] == 0
    for column in audit.columns[1:]:
        assert audit[column].dtype.kind == "i"


def test_deidentify_types_limit_what_is_removed():
    new, audit = Deidentifier(DeidConfig(types=("PHONE",), speaker_labels=False)).deidentify_session(_session())
    assert new.utterances[0].speaker == "Dr. Maya Rivera"
    assert "[PHONE_1]" in new.utterances[2].text and "Adaeze" in new.utterances[2].text
    assert audit["NAME"] == 0


def test_deidentify_opens_no_socket(monkeypatch):
    from coder.deid.recognizers import offline_tld_extractor

    offline_tld_extractor.cache_clear()  # a fresh extractor must not fetch the suffix list either

    def refuse(*args, **kwargs):
        raise AssertionError("de-identification tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    new, audit = Deidentifier().deidentify_session(_session([
        ("Client", "client", "Write to maria_gutierrez88@yahoo.com.mx or dr.rivera@brightpath-counseling.org."),
        ("Therapist", "therapist", "Or see www.example.org/forms, thanks."),
    ]))
    assert audit["EMAIL"] == 2
    assert "yahoo" not in new.utterances[0].text


@pytest.mark.parametrize("label, is_name", [
    ("Dr. Maya Rivera", True), ("Tom", True), ("Nguyen Thi Lan", True),
    ("Therapist", False), ("T", False), ("Client 2", False), ("SPEAKER_00", False), ("Speaker 1", False),
    ("Counselor", False), ("Interviewer", False), ("P1", False), ("", False),
])
def test_is_name_label(label, is_name):
    assert is_name_label(label) is is_name


def test_deidentify_scrubs_metadata_strings():
    session = _session()
    session.meta["warnings"] = ["guessed Dr. Maya Rivera as therapist"]
    session.utterances[1].meta["note"] = "Tom Okafor called about Adaeze"
    new, _ = Deidentifier().deidentify_session(session)
    assert "Maya" not in new.meta["warnings"][0] and "[NAME_1]" in new.meta["warnings"][0]
    assert "Okafor" not in new.utterances[1].meta["note"] and "Adaeze" not in new.utterances[1].meta["note"]
    assert session.meta["warnings"] == ["guessed Dr. Maya Rivera as therapist"]  # the input is untouched


@pytest.mark.parametrize("text, number", [
    ("The pharmacy texted from 1-888-555-0177 yesterday.", "1-888-555-0177"),
    ("My cousin's line is +44 20 7946 0958, in London.", "+44 20 7946 0958"),
])
def test_deidentify_phone_takes_its_country_code(text, number):
    s = _session([("Therapist", "therapist", "Go on."), ("Client", "client", text)])
    new, _ = Deidentifier(DeidConfig(types=("PHONE",))).deidentify_session(s)
    out = new.utterances[1].text
    assert "[PHONE_1]" in out and not any(part in out for part in number.split()[:1] + ["888", "7946"])


def test_deidentify_phone_shaped_number_is_a_phone():
    s = _session([("Therapist", "therapist", "Go on."), ("Client", "client", "They called from 1-888-555-0177 about it.")])
    new, _ = Deidentifier(DeidConfig()).deidentify_session(s)
    assert new.utterances[1].text == "They called from [PHONE_1] about it."
