"""The labelled training corpus: AnnoMI's expert labels mapped to the scheme, the project's own
labels, Welivita & Pu forum data and constructed examples, joined and split into a
Hugging Face ``DatasetDict``.

Modules
-------
annomi
    Load AnnoMI, majority-vote the multi-annotator transcripts, map its labels to the scheme.
labels
    Load and validate the project's label files; join them with AnnoMI; the long table.
ratings
    The session-level observer ratings (VTAS-style scales).
welivita
    Welivita & Pu (2022) peer-support sentences mapped to the scheme (training only).
constructed
    The project's constructed examples for rare codes (training only).
reliability
    Agreement of the double-coded subset, per code and per session-rating scale.
build
    ``build_dataset``, transcript-level splits and folds, the label-count table,
    ``build_and_report`` (the ``alliance-coder data build`` entry point).
report
    ``python -m coder.data.report``: regenerate the computed tables in the docs.
paths
    Where the shared data and the annotations live.

No AnnoMI or Welivita text is ever written into the repository: it is read from
``../shared/data`` when the dataset is built.
"""
