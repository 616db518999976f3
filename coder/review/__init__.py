"""Annotators correct the model's codes: the corrections store, the review app, Label Studio and
CSV exchange, agreement, and retraining from corrections.

Modules
-------
coded
    Reading a coded folder (``alliance-coder code`` output) and code-list helpers.
store
    The SQLite corrections database: coded utterances and the append-only audit trail.
definitions
    One-line code meanings (hover text), toggle keys and the guideline version.
app
    The local Flask review app (127.0.0.1, per-launch access token) and its server.
labelstudio
    Label Studio tasks with predictions, import of its annotation exports; CSV import/export.
agreement
    Cohen's kappa per pair of coders, Fleiss' kappa and Krippendorff's alpha, per code and overall.
retrain
    ``retrain_from_corrections``: fine-tune on corrections plus the corpus, keep only if not worse.
"""
