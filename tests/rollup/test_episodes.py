"""Rupture episodes: grouping, family, therapist response and resolution on constructed sessions."""

from __future__ import annotations

import math

import pytest

from coder.rollup.episodes import EpisodeConfig, find_episodes, worst_moment
from coder.rollup.features import utterance_table
from coder.rollup.mapping import ScaleMapping
from tests.rollup.build import ENGAGED, MINIMAL, make_session

#: The worked example of client_rupture_markers.md ("Rupture episodes and resolution").
WORKED = [
    ("therapist", "You should cut back to weekends only.", ["directing"]),
    ("client", "That's never going to happen.", ["c_reject_intervention", "sustain_talk"]),
    ("therapist", "You're sure it won't work.", ["reflection_simple"]),
    ("client", "Yeah, I've tried that before and it never lasts.", ["sustain_talk"]),
    ("therapist", "I think I jumped in with a suggestion before hearing what you want — how was that for you?",
     ["metacommunication", "question_open"]),
    ("client", "(long pause) Whatever.", ["w_minimal_response", "neutral_talk"]),
    ("therapist", "What would you want to get out of today, if anything?", ["question_open", "collaboration"]),
    ("client", "Honestly, I'd like to stop waking up feeling sick every Saturday.", ["change_talk"]),
    ("therapist", "Tell me about those Saturday mornings.", ["question_open"]),
    ("client", "I wake up at six, my head's pounding, and the kids are already up wanting breakfast…",
     ["neutral_talk"]),
    ("therapist", "Mm-hmm.", []),
    ("client", "…and I just feel like the worst dad going.", ["neutral_talk"]),
]


def episodes_of(items, config=None, **kw):
    return find_episodes(utterance_table(make_session(items, **kw)), config)


def test_episodes_guideline_worked_example():
    (ep,) = episodes_of(WORKED).itertuples(index=False)
    assert (ep.first_utterance_id, ep.last_utterance_id) == ("1", "5")  # utterances 2 and 6 of the example
    assert ep.family == "mixed"
    assert set(ep.markers.split(";")) == {"c_reject_intervention", "w_minimal_response"}
    assert ep.resolved and ep.resolved_by == "7"  # "Honestly, I'd like to stop…"
    assert {"metacommunication", "collaboration"} <= set(ep.response_helpful.split(";"))
    assert ep.response_final == "repair"
    literal = episodes_of(WORKED, EpisodeConfig(unit="utterance"))  # one utterance per turn: same result
    assert literal.drop(columns="episode").equals(episodes_of(WORKED).drop(columns="episode"))


def client(marker=None, text="That's not going to work for me at all.", talk="neutral_talk"):
    return ("client", text, [talk] + ([marker] if marker else []))


T = ("therapist", "Go on.", [])


def test_episodes_markers_within_two_unmarked_turns_form_one_episode():
    items = [T, client("w_denial"), T, client(), T, client(), T, client("c_defend_self"), T, client(text=ENGAGED),
             T, client(text=ENGAGED), T, client(text=ENGAGED)]
    (ep,) = episodes_of(items).itertuples(index=False)
    assert ep.family == "mixed" and ep.n_marked == 2 and ep.resolved


def test_episodes_three_unmarked_turns_close_an_episode():
    items = [T, client("w_denial"), T, client(), T, client(), T, client(), T, client("w_denial"),
             T, client(text=ENGAGED), T, client(), T, client()]
    eps = episodes_of(items)
    assert len(eps) == 2
    assert eps["family"].tolist() == ["withdrawal", "withdrawal"]


def test_episodes_unresolved_without_engaged_talk_or_when_session_ends():
    minimal = [T, client("c_complaint_progress"), T, client(text=MINIMAL), T, client(text="I suppose."),
               T, client(text=ENGAGED, talk="sustain_talk")]
    (ep,) = episodes_of(minimal).itertuples(index=False)
    assert not ep.resolved and ep.window_complete  # back-channels and sustain talk are not re-engagement
    ending = [T, client("c_complaint_progress"), T, client(text=ENGAGED)]
    (ep,) = episodes_of(ending).itertuples(index=False)
    assert not ep.resolved and not ep.window_complete


def test_episodes_escalating_response_is_recorded():
    items = [T, client("c_reject_intervention"), ("therapist", "You're just making excuses.", ["confront_criticize"]),
             client(text=MINIMAL), T, client(text=MINIMAL), T, client(text=MINIMAL)]
    (ep,) = episodes_of(items).itertuples(index=False)
    assert ep.response == "escalating" and ep.response_harmful == "confront_criticize" and not ep.resolved


def test_episodes_count_turns_not_sentences_by_default():
    # one reply cut into three back-channel utterances, then an engaged reply
    items = [T, client("w_minimal_response"), T, ("client", "(long pause)", ["neutral_talk"]),
             ("client", "A bit.", ["neutral_talk"]), ("client", "Yeah.", ["neutral_talk"]), T, client(text=ENGAGED),
             T, client(text=ENGAGED)]
    (ep,) = episodes_of(items).itertuples(index=False)
    assert ep.resolved
    (literal,) = episodes_of(items, EpisodeConfig(unit="utterance")).itertuples(index=False)
    assert not literal.resolved  # the guideline's literal unit: the window is used up by back-channels


def test_episodes_threshold_applies_to_probabilities():
    p_hi = {"c_reject_intervention": 0.8, "neutral_talk": 0.9, "change_talk": 0.05, "sustain_talk": 0.05}
    p_lo = {**p_hi, "c_reject_intervention": 0.2}
    items = [T, ("client", "No.", [], p_hi), T, ("client", "No.", [], p_lo)]
    eps = episodes_of(items)
    assert len(eps) == 1 and eps.iloc[0].first_utterance_id == "1" and eps.iloc[0].n_marked == 1
    assert math.isclose(eps.iloc[0].marker_mass, 0.8)
    (low,) = episodes_of(items, EpisodeConfig(threshold=0.15)).itertuples(index=False)
    assert low.n_marked == 2 and math.isclose(low.marker_mass, 1.0)
    assert len(episodes_of(items, EpisodeConfig(threshold=0.9))) == 0


def test_episodes_min_mass_drops_isolated_uncertain_markers():
    weak = {"c_reject_intervention": 0.6, "neutral_talk": 0.9, "change_talk": 0.05, "sustain_talk": 0.05}
    strong = {**weak, "c_reject_intervention": 0.9}
    lone = [T, ("client", "No.", [], weak), T, client(text=ENGAGED), T, client(text=ENGAGED), T, client(text=ENGAGED)]
    pattern = [T, ("client", "No.", [], strong), T, ("client", "No.", [], strong), T, client(text=ENGAGED),
               T, client(text=ENGAGED), T, client(text=ENGAGED)]
    rule = EpisodeConfig(min_mass=1.5)
    assert len(episodes_of(lone)) == 1 and len(episodes_of(lone, rule)) == 0
    (ep,) = episodes_of(pattern, rule).itertuples(index=False)
    assert ep.n_marked == 2 and ep.marker_mass >= 1.5 and ep.resolved


@pytest.mark.parametrize("stray, share, family", [
    (0.35, 0.0, "mixed"),                            # any crossing of both families: the literal rule
    (0.35, EpisodeConfig.mixed_share, "withdrawal"),  # default: a stray confrontation probability
    (0.9, 0.2, "mixed"),                             # both families strongly present
])
def test_episodes_mixed_share_keeps_the_dominant_family(stray, share, family):
    base = {"neutral_talk": 0.9, "change_talk": 0.05, "sustain_talk": 0.05}
    items = [T, ("client", "Fine.", [], {**base, "w_minimal_response": 0.9}),
             T, ("client", "Whatever.", [], {**base, "w_minimal_response": 0.8, "c_defend_self": stray}),
             T, ("client", "Sure.", [], {**base, "w_minimal_response": 0.9})]
    (ep,) = episodes_of(items, EpisodeConfig(mixed_share=share)).itertuples(index=False)
    assert ep.family == family and ep.n_marked == 3


def test_episodes_family_probability_marks_when_codes_are_not_predicted_alone():
    p = {"w_denial": float("nan"), "withdrawal": 0.9, "neutral_talk": 1.0}
    (ep,) = episodes_of([T, ("client", "I'm fine.", [], p)]).itertuples(index=False)
    assert ep.family == "withdrawal" and ep.markers == "withdrawal"


def test_episodes_worst_moment_finds_the_harmful_stretch():
    calm = [("therapist", "What brings you here?", ["question_open"]), client(text=ENGAGED)] * 10
    harsh = [("therapist", "That's just an excuse.", ["confront_criticize"]), client("c_defend_self")] * 3
    session = make_session(calm + harsh + calm)
    worst = worst_moment(utterance_table(session), ScaleMapping().harmful_weights)
    assert worst["first_position"] == 20 and worst["last_position"] == 25
    assert worst_moment(utterance_table(make_session(calm)), ScaleMapping().harmful_weights) is None
    # many weak markers, none above 0.25 on its own: the link goes to the most strained one
    weak = [T, ("client", "Hm.", [], {"c_reject_intervention": 0.2, "neutral_talk": 1.0})] * 5
    weak[5] = ("client", "Hm.", [], {"c_reject_intervention": 0.24, "neutral_talk": 1.0})
    worst = worst_moment(utterance_table(make_session(weak)), ScaleMapping().harmful_weights, min_strain=0.5)
    assert worst["first_position"] == worst["last_position"] == 5


@pytest.mark.parametrize("unit", ["nonsense"])
def test_episodes_reject_unknown_unit(unit):
    with pytest.raises(ValueError):
        episodes_of(WORKED, EpisodeConfig(unit=unit))
