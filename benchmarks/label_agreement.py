"""Agreement of the project's newer label sets with their independent second passes.

* Withdrawal recode (guideline 1.1) of AnnoMI: agent-w1 (all 105 transcripts) against the blind
  second pass agent-w2 (30 transcripts); and the recode against the guideline-1.0 first pass.
* MIBot: the first coders (agent-m1, agent-m2) against the blind second coder agent-m3 on 22
  conversations.
* Counterfactual rewrites: the writer's codes against a blind second coder, where one exists
  (``data/annotations/rewrites/second_pass/``).

Cohen's kappa per code and per family over the shared units, with each coder's positives;
codes with fewer than 10 positives in both passes are flagged provisional (the manual's rule).
Run: ``.venv/bin/python benchmarks/label_agreement.py [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
from sklearn.metrics import cohen_kappa_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coder.data.labels import load_labels, read_recode  # noqa: E402
from coder.data.mibot import read_mibot_labels  # noqa: E402
from coder.scheme import (CLIENT_CODES, CONFRONTATION, TALK_TYPES, THERAPIST_CODES, THERAPIST_HARMFUL,  # noqa: E402
                          THERAPIST_HELPFUL, WITHDRAWAL)

ANN = ROOT / "data" / "annotations"
FAMILIES = {"withdrawal": WITHDRAWAL, "confrontation": CONFRONTATION, "harmful": THERAPIST_HARMFUL,
            "helpful": THERAPIST_HELPFUL}


def kappas(a: pd.Series, b: pd.Series, codes, families=()) -> list[dict]:
    """Per code (and family) kappa between two aligned series of code lists."""
    rows = []
    targets = [(c, (c,)) for c in codes] + [(f, FAMILIES[f]) for f in families]
    for name, members in targets:
        x = a.map(lambda cs: bool(set(cs) & set(members)))
        y = b.map(lambda cs: bool(set(cs) & set(members)))
        if not (x.any() or y.any()):
            rows.append({"code": name, "n": len(x), "pos_a": 0, "pos_b": 0, "kappa": None, "provisional": True})
            continue
        k = cohen_kappa_score(x, y) if x.nunique() > 1 or y.nunique() > 1 else float("nan")
        rows.append({"code": name, "n": int(len(x)), "pos_a": int(x.sum()), "pos_b": int(y.sum()),
                     "kappa": None if pd.isna(k) else round(float(k), 3),
                     "provisional": bool(max(x.sum(), y.sum()) < 10)})
    return rows


def withdrawal() -> dict:
    w1 = read_recode(ANN / "recode_withdrawal")
    w2 = read_recode(ANN / "recode_withdrawal" / "second_pass")
    both = w1.merge(w2, on=["transcript_id", "utterance_id"], suffixes=("_a", "_b"))
    old = load_labels().query("role == 'client'")
    vs_old = w1.merge(old[["transcript_id", "utterance_id", "code_list"]], on=["transcript_id", "utterance_id"],
                      suffixes=("_a", "_b"))
    return {"second_pass": {"transcripts": int(both.transcript_id.nunique()), "utterances": len(both),
                            "kappa": kappas(both.code_list_a, both.code_list_b, WITHDRAWAL, ("withdrawal",))},
            "recode_vs_guideline_1_0": {"transcripts": int(vs_old.transcript_id.nunique()), "utterances": len(vs_old),
                                        "kappa": kappas(vs_old.code_list_a, vs_old.code_list_b, WITHDRAWAL,
                                                        ("withdrawal",))}}


def mibot() -> dict:
    first = read_mibot_labels(ANN / "mibot")
    second = read_mibot_labels(ANN / "mibot" / "second_pass")
    both = first.merge(second, on=["participant_id", "utterance_number", "role"], suffixes=("_a", "_b"))
    out = {"conversations": int(both.participant_id.nunique()), "utterances": len(both)}
    for role, codes, fams in (("client", CLIENT_CODES, ("withdrawal", "confrontation")),
                              ("therapist", THERAPIST_CODES, ("harmful", "helpful"))):
        part = both[both.role == role]
        out[role] = {"utterances": len(part), "kappa": kappas(part.codes_a, part.codes_b, codes, fams)}
    client = both[both.role == "client"]
    talk_a = client.codes_a.map(lambda cs: next(c for c in cs if c in TALK_TYPES))
    talk_b = client.codes_b.map(lambda cs: next(c for c in cs if c in TALK_TYPES))
    out["client"]["talk_type_kappa"] = round(float(cohen_kappa_score(talk_a, talk_b)), 3)
    return out


def rewrites() -> dict | None:
    folder = ANN / "rewrites" / "second_pass"
    files = sorted(folder.glob("check_*.csv")) if folder.is_dir() else []
    if not files:
        return None
    from coder.data.rewrites import read_rewrites

    first = read_rewrites(ANN / "rewrites")
    second = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True)
    second["row"] = second["row"].astype(int)
    second["codes"] = second["codes"].map(lambda s: [c for c in s.split(";") if c])
    both = first.merge(second[["group_id", "row", "codes"]], on=["group_id", "row"], suffixes=("_a", "_b"))
    out = {"groups": int(both.group_id.nunique()), "rows": len(both),
           "share_of_groups": round(both.group_id.nunique() / max(first.group_id.nunique(), 1), 3)}
    for role, codes, fams in (("client", CLIENT_CODES, ("withdrawal", "confrontation")),
                              ("therapist", THERAPIST_CODES, ("harmful",))):
        part = both[both.role == role]
        out[role] = {"rows": len(part), "kappa": kappas(part.codes_a, part.codes_b, codes, fams)}
    target_hit = both.apply(lambda r: (r.target_code in r.codes_b) == (r.target_code in r.codes_a), axis=1)
    out["target_code_agreement"] = round(float(target_hit.mean()), 3)
    return out


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "label_agreement.json")
    args = parser.parse_args()
    result = {"withdrawal_recode": withdrawal(), "mibot": mibot(), "rewrites": rewrites()}
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    res = main()
    for part, body in res.items():
        print(f"== {part} ==")
        print(json.dumps(body, indent=1)[:4000])
