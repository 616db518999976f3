"""Roles: explicit labels, user-given names, and a heuristic that names its guess or refuses."""

from __future__ import annotations

import pytest

from coder.errors import RoleError
from coder.roles import RoleConfig, identify_roles, read_roles_file, role_from_label
from coder.session import Session, Utterance


def _session(lines):
    return Session("s", [Utterance("s", str(i), -1, spk, None, None, None, txt) for i, (spk, txt) in enumerate(lines)],
                   meta={"source": "s.txt"})


@pytest.mark.parametrize(
    ("label", "role"),
    [("T", "therapist"), ("Therapist", "therapist"), ("Counselor", "therapist"), ("counsellor", "therapist"),
     ("Dr.", "therapist"), ("C", "client"), ("Client", "client"), ("Patient", "client"), ("Patient 2", "client"),
     ("interlocutor", None), ("Anna", None), ("Dr. Lee", None)],
)
def test_roles_from_label(label, role):
    assert role_from_label(label) == role


COUNSELLING = [
    ("Ana", "What brings you here today?"), ("Ben", "My doctor sent me, I have been drinking a lot lately and "
                                             "my wife is upset about it and I guess I am too."),
    ("Ana", "So you're worried about how it affects your marriage."), ("Ben", "Yes, and my work, honestly it is "
                                                                              "all piling up on me."),
    ("Ana", "How would you like things to be different?"), ("Ben", "I would like to feel in control again."),
]


def test_roles_heuristic_guess_is_named_in_a_warning():
    s = _session(COUNSELLING)
    warnings = identify_roles(s)
    assert s.speakers == {"Ana": "therapist", "Ben": "client"}
    assert len(warnings) == 1 and "guessed roles therapist='Ana', client='Ben'" in warnings[0]


def test_roles_therapist_option_overrides_heuristic():
    s = _session(COUNSELLING)
    assert identify_roles(s, RoleConfig(therapist=["Ben"])) == []
    assert s.speakers == {"Ana": "client", "Ben": "therapist"}


def test_roles_file(tmp_path):
    path = tmp_path / "roles.csv"
    path.write_text("session_id,speaker,role\ns,Ben,therapist\n,Ana,patient\n")
    s = _session(COUNSELLING)
    assert identify_roles(s, RoleConfig(roles=read_roles_file(path))) == []
    assert s.speakers == {"Ana": "client", "Ben": "therapist"}


def test_roles_one_label_deduces_the_other():
    s = _session([("Therapist", "Hello."), ("Sam", "Hi.")])
    assert identify_roles(s) == []
    assert s.speakers == {"Therapist": "therapist", "Sam": "client"}


def test_roles_extra_speakers_become_other_with_warning():
    s = _session([("T", "Hello."), ("C", "Hi."), ("Interpreter", "She says hi.")])
    warnings = identify_roles(s)
    assert s.speakers["Interpreter"] == "other"
    assert "Interpreter" in warnings[0]


@pytest.mark.parametrize(
    ("lines", "message"),
    [([("T", "Hi."), ("T", "Hello?")], "only one speaker"),
     ([("Ann", "Hello."), ("Bob", "Hello."), ("Ann", "Hello."), ("Bob", "Hello.")], "cannot tell therapist from client"),
     ([("Therapist", "Hi."), ("Counselor", "Hello.")], "no client among speakers")],
)
def test_roles_refused_when_unclear(lines, message):
    with pytest.raises(RoleError, match=message):
        identify_roles(_session(lines))


def test_roles_file_bad_role(tmp_path):
    path = tmp_path / "roles.csv"
    path.write_text("speaker,role\nAna,boss\n")
    with pytest.raises(Exception, match=r"roles.csv:2: unknown role 'boss'"):
        read_roles_file(path)


@pytest.mark.parametrize("label", ["SPEAKER_00", "Speaker 1", "speaker_2", "spk0", "Speaker B", "Unknown Speaker 3"])
def test_roles_diarisation_labels_say_nothing_about_role(label):
    assert role_from_label(label) is None


@pytest.mark.parametrize("names", [("SPEAKER_00", "SPEAKER_01"), ("Speaker 1", "Speaker 2")])
def test_roles_diarised_speakers_are_guessed_with_warning(names):
    """Diarised files were refused unless --therapist was given ('Speaker 1' read as a client word)."""
    a, b = names
    s = _session([(a if spk == "Ana" else b, txt) for spk, txt in COUNSELLING])
    warnings = identify_roles(s)
    assert s.speakers == {a: "therapist", b: "client"}
    assert len(warnings) == 1 and f"guessed roles therapist={a!r}, client={b!r}" in warnings[0]


def test_roles_explicit_label_wins_over_therapist_option():
    """D11: --therapist X turned a speaker literally labelled 'Therapist' into a client."""
    s = _session([("Therapist", "Hello."), ("Sam", "Hi."), ("Dr. Lee", "Welcome.")])
    identify_roles(s, RoleConfig(therapist=["Dr. Lee"]))
    assert s.speakers == {"Therapist": "therapist", "Sam": "client", "Dr. Lee": "therapist"}


def test_roles_therapist_option_warns_when_several_become_clients():
    s = _session([("Ana", "Hello."), ("Ben", "Hi."), ("Cleo", "Hey.")])
    warnings = identify_roles(s, RoleConfig(therapist=["Ana"]))
    assert s.speakers == {"Ana": "therapist", "Ben": "client", "Cleo": "client"}
    assert "Ben, Cleo all taken as client" in warnings[0]


def test_roles_one_label_and_several_unlabelled_speakers():
    s = _session([("Therapist", "How are you both?"), ("Sam", "Not great, work has been a lot this month."),
                  ("Partner", "Fine."), ("Therapist", "Tell me more."), ("Sam", "It is the hours mostly.")])
    warnings = identify_roles(s)
    assert s.speakers == {"Therapist": "therapist", "Sam": "client", "Partner": "other"}
    assert "'Sam' taken as client" in warnings[0] and "'Partner' taken as 'other'" in warnings[0]


def test_roles_names_match_whatever_their_unicode_form():
    s = _session([("Zoë", "How are you?"), ("Ana", "Fine.")])  # NFC in the session, NFD on the command line
    identify_roles(s, RoleConfig(therapist=["Zoe\u0308"]))
    assert s.speakers == {"Zoë": "therapist", "Ana": "client"}
