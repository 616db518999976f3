"""Annotators correct the model's codes: the corrections store, the review app, Label Studio and
CSV exchange, agreement, and retraining from corrections.

Modules
-------
coded
    Reading a coded folder (``alliance-coder code`` output) and code-list helpers.
store
    The SQLite corrections database: coded utterances and the append-only audit trail.
schema
    Its schema: corrections keyed by utterance and text fingerprint (attached or orphaned),
    and the migration of version-1 databases.
margins
    How close each model decision came to its own rule (threshold or argmax), for the review queue.
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
