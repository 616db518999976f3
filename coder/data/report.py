"""Regenerate the computed parts of ``data/annotations/README.md`` and
``annotation_guidelines/reliability.md`` (counts and agreement tables) by running the code.

Usage::

    python -m coder.data.report            # rewrite the generated blocks in place
    python -m coder.data.report --check    # exit 1 if a block is out of date

A generated block sits between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->``;
everything outside the markers is hand-written and left alone.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter

import pandas as pd

from coder.data.annomi import load_annomi
from coder.data.build import DROPPED, SHARPENED, TRAINING_MERGES, UNVALIDATED, build_dataset, label_counts
from coder.data.labels import KEYS, final_codes, join_labels, load_labels
from coder.data.paths import ANNOTATIONS_DIR, REPO_ROOT
from coder.data.ratings import load_session_ratings, read_ratings
from coder.data.reliability import annomi_agreement, code_agreement, markdown_table, rating_agreement
from coder.scheme import ALL_CODES, FAMILIES, RUPTURE_MARKERS

README = ANNOTATIONS_DIR / "README.md"
RELIABILITY = REPO_ROOT / "annotation_guidelines" / "reliability.md"


def _count(lists) -> Counter:
    return Counter(c for codes in lists for c in codes)


def plan_of(code: str) -> str:
    """The reliability plan applied to ``code`` in the dataset builder, in a few words."""
    if code in DROPPED:
        plan = "drop"
    elif code in TRAINING_MERGES:
        plan = f"merge → {TRAINING_MERGES[code]}"
    elif code in UNVALIDATED:
        plan = "keep, κ not established"
    else:
        plan = "keep"
    if code in SHARPENED:
        plan += "; sharpen " + ",".join(SHARPENED[code])
    return plan


def corpus_sections(dataset=None) -> dict[str, str]:
    """Markdown blocks for the README: label counts per code and per split, and join facts."""
    annomi = load_annomi()
    first = load_labels(annomi=annomi)
    second = load_labels(ANNOTATIONS_DIR / "second_pass", annomi=annomi, complete=False)
    joined = join_labels(annomi, first)
    c_first, c_second = _count(first.code_list), _count(second.code_list)
    c_annomi, c_final = _count(joined.annomi_codes), _count(joined.codes)
    rows = [{"code": c, "AnnoMI-derived": c_annomi[c], "project first pass": c_first[c],
             "second pass (15 tr.)": c_second[c], "final (joined)": c_final[c], "training": plan_of(c)}
            for c in ALL_CODES]
    families = {"withdrawal (any w_*)": FAMILIES["withdrawal"], "confrontation (any c_*)": FAMILIES["confrontation"],
                "rupture (either)": RUPTURE_MARKERS, "harmful (any)": FAMILIES["harmful"]}
    for name, members in families.items():
        hit = lambda lists: int(sum(any(c in members for c in codes) for codes in lists))  # noqa: E731
        rows.append({"code": name, "AnnoMI-derived": 0, "project first pass": hit(first.code_list),
                     "second pass (15 tr.)": hit(second.code_list), "final (joined)": hit(joined.codes),
                     "training": "family label"})
    rows.append({"code": "utterances", "AnnoMI-derived": len(joined), "project first pass": len(first),
                 "second pass (15 tr.)": len(second), "final (joined)": len(joined), "training": ""})
    advice = joined[joined.advice_candidate]
    overridden = joined[joined.auto_collaboration & ~joined.codes.map(lambda cs: "collaboration" in cs)]
    facts = pd.DataFrame([
        {"fact": "AnnoMI utterances (105 transcripts; 4 majority-voted over 10 annotators)", "n": len(joined)},
        {"fact": "therapist / client utterances",
         "n": f"{(joined.role == 'therapist').sum()} / {(joined.role == 'client').sum()}"},
        {"fact": "AnnoMI `advice` rows (candidates for directing)", "n": len(advice)},
        {"fact": "… of which the project annotator coded `directing`",
         "n": int(advice.codes.map(lambda cs: "directing" in cs).sum())},
        {"fact": "`directing` on rows AnnoMI did not mark as advice",
         "n": int((~joined.advice_candidate & joined.codes.map(lambda cs: "directing" in cs)).sum())},
        {"fact": "AnnoMI options/negotiation rows (automatic collaboration)", "n": int(joined.auto_collaboration.sum())},
        {"fact": "… where the annotator's `directing` replaced it (v1.1 rule)", "n": len(overridden)},
        {"fact": "utterances with no code at all in the final labels", "n": int((joined.codes.str.len() == 0).sum())},
    ])
    dataset = dataset if dataset is not None else build_dataset()
    return {"counts": markdown_table(pd.DataFrame(rows)), "join": markdown_table(facts),
            "splits": markdown_table(label_counts(dataset).reset_index(names="code"))}


def reliability_sections() -> dict[str, str]:
    """Markdown blocks for reliability.md: per-code agreement, AnnoMI's agreement, ratings."""
    annomi = load_annomi()
    first = load_labels(annomi=annomi)
    second = load_labels(ANNOTATIONS_DIR / "second_pass", annomi=annomi, complete=False)
    table = code_agreement(first, second)
    table["plan"] = [("family label" if lvl == "family" else plan_of(c)) for c, lvl in zip(table.code, table.level)]
    table.loc[~table.estimable, ["ci_low", "ci_high"]] = float("nan")
    shown = table.drop(columns=["level", "needs_plan"]).rename(columns={"estimable": "≥5 pos. (union)"})
    for col in ("prev_first", "prev_second", "pct_agree"):
        shown[col] = shown[col] * 100
    shown = shown.rename(columns={"prev_first": "prev_first %", "prev_second": "prev_second %",
                                  "pct_agree": "agree %"})
    joined_view = []
    for labels in (first, second):
        m = labels.merge(annomi[KEYS + ["annomi_codes", "auto_collaboration"]], on=KEYS)
        m["code_list"] = [final_codes(a, p, auto_collaboration=bool(x))
                          for a, p, x in zip(m.annomi_codes, m.code_list, m.auto_collaboration)]
        joined_view.append(m)
    final = code_agreement(*joined_view, codes=["collaboration", "directing"])
    final = final[final.level == "code"][["code", "n", "pos_first", "pos_second", "pct_agree", "kappa", "ci_low",
                                          "ci_high"]].assign(pct_agree=lambda f: f.pct_agree * 100)
    ratings = rating_agreement(load_session_ratings(), read_ratings(ANNOTATIONS_DIR / "second_pass" / "ratings_agent-b1.csv"))
    return {"kappa": markdown_table(shown), "final": markdown_table(final.rename(columns={"pct_agree": "agree %"})),
            "annomi": markdown_table(annomi_agreement()),
            "ratings": markdown_table(ratings)}


def fill(text: str, sections: dict[str, str]) -> str:
    """Replace each ``<!-- generated:NAME -->…<!-- /generated:NAME -->`` block's body."""
    for name, body in sections.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"no generated:{name} block")
        text = pattern.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), text)
    return text


def main(argv=None) -> int:
    """Rewrite (or with ``--check`` verify) the generated blocks; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m coder.data.report", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether the files are up to date")
    args = parser.parse_args(argv)
    stale = []
    for path, sections in ((README, corpus_sections()), (RELIABILITY, reliability_sections())):
        old = path.read_text(encoding="utf-8")
        new = fill(old, sections)
        if new != old:
            stale.append(str(path))
            if not args.check:
                path.write_text(new, encoding="utf-8")
    if args.check and stale:
        print("out of date: " + ", ".join(stale))
        return 1
    print("updated: " + (", ".join(stale) or "nothing to change"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
