"""``alliance-coder train | evaluate``: the classifier's commands, registered on :data:`coder.cli_app.app`.

``code`` lives in :mod:`coder.cli_run`.

Heavy imports (torch, transformers, datasets) happen inside the commands, so ``--help`` and
the other commands stay fast.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Optional

import pandas as pd
import typer

from coder.cli_app import EXIT_BAD_INPUT, app, err, output_dir
from coder.errors import InputError
from coder.model import DEFAULT_MODEL_NAME, default_model_path


def _load_model(path: Optional[Path], **kwargs):
    """The classifier at ``path`` (default shipped model), or one error line and exit 2."""
    from coder.model import load
    from coder.model.encoder import EncoderError

    path = path or default_model_path()
    try:
        return load(path, **kwargs)
    except (InputError, EncoderError) as e:
        if path == default_model_path() and not path.exists():
            err.print(f"{path}: no shipped model {DEFAULT_MODEL_NAME!r} yet; train one with "
                      f"`alliance-coder train --out {path}` or pass --model PATH", markup=False)
        else:
            err.print(str(e), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)


def _build_corpus(data: Optional[Path], context: int, welivita: bool = True):
    from coder.data.build import build_dataset

    options = {"context": context, "include_welivita": welivita}
    if data is not None:
        options.update(annomi_path=data / "annomi" / "AnnoMI-full.csv", welivita_dir=data / "welivita-mi")
    try:
        return build_dataset(**options)
    except InputError as e:
        err.print(str(e), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)


DATA_HELP = "Shared data folder with annomi/ and welivita-mi/; default ../shared/data."


@app.command()
def train(
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write, e.g. models/NAME."),
    encoder: Optional[Path] = typer.Option(None, "--encoder", help="Hugging Face encoder folder; default the "
                                           "packaged all-MiniLM-L6-v2."),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    epochs: int = typer.Option(3, "--epochs"),
    batch_size: int = typer.Option(16, "--batch-size"),
    lr: float = typer.Option(5e-5, "--lr", help="Encoder learning rate (heads: --head-lr)."),
    head_lr: float = typer.Option(1e-3, "--head-lr"),
    context_size: int = typer.Option(2, "--context-size", help="Previous utterances given as context."),
    max_length: int = typer.Option(128, "--max-length"),
    seed: int = typer.Option(13, "--seed"),
    patience: int = typer.Option(1, "--patience"),
    bf16: bool = typer.Option(True, "--bf16/--no-bf16", help="bf16 autocast where the CPU supports it."),
    threads: Optional[int] = typer.Option(None, "--threads"),
    limit: Optional[int] = typer.Option(None, "--limit", help="Train on a seeded random N examples (smoke runs)."),
    welivita: bool = typer.Option(True, "--welivita/--no-welivita", help="Add the Welivita forum data (train only)."),
    corrections: Optional[Path] = typer.Option(None, "--corrections", help="Review database: fine-tune the current "
                                               "model (--model) on its corrections plus the corpus; written only "
                                               "if not worse on the untouched test split."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="With --corrections: the model to start from; "
                                         f"default models/{DEFAULT_MODEL_NAME}."),
) -> None:
    """Fine-tune the classifier on the corpus (train split; validation for early stopping and thresholds)."""
    output_dir(out)
    from coder.model.classifier import TrainConfig, UtteranceClassifier
    from coder.model.encoder import EncoderError

    if corrections is not None:
        from coder.review.retrain import RetrainConfig, retrain_from_corrections

        start = model or default_model_path()
        for path, what in ((corrections, "no such review database"), (start / "config.json", "no model here")):
            if not path.exists():
                err.print(f"{path}: {what}", markup=False)
                raise typer.Exit(EXIT_BAD_INPUT)
        try:
            context = json.loads((start / "config.json").read_text()).get("context_size", context_size)
            info = retrain_from_corrections(start, corrections, out=out,
                                            corpus=_build_corpus(data, context, welivita),
                                            config=RetrainConfig(train={"epochs": epochs, "seed": seed}))
        except (InputError, EncoderError, FileNotFoundError) as e:
            err.print(str(e), markup=False)
            raise typer.Exit(EXIT_BAD_INPUT)
        err.print(info["reason"], markup=False)
        return

    cfg = TrainConfig(encoder=str(encoder) if encoder else None, epochs=epochs, batch_size=batch_size, lr=lr,
                      head_lr=head_lr, context_size=context_size, max_length=max_length, seed=seed,
                      patience=patience, bf16=bf16, threads=threads, max_train_examples=limit)
    corpus = _build_corpus(data, context_size, welivita)
    err.print(f"training on {len(corpus['train'])} examples (validation {len(corpus['validation'])})", markup=False)
    t0 = time.perf_counter()
    try:
        clf = UtteranceClassifier(cfg, version=out.name).fit(corpus["train"], corpus["validation"])
    except EncoderError as e:
        err.print(str(e), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    clf.save(out)
    for h in clf.history_:
        err.print(f"epoch {h['epoch']}: loss {h['train_loss']:.4f}, validation macro-F1 "
                  f"{h.get('val_macro_f1', float('nan')):.3f}, {h['train_seconds']:.0f} s "
                  f"({'bf16' if h['bf16'] else 'fp32'})", markup=False)
    err.print(f"saved {out} in {time.perf_counter() - t0:.0f} s; next: alliance-coder evaluate --model {out}",
              markup=False)


def _print_evaluation(result, title: str) -> None:
    pd.set_option("display.width", 160)
    typer.echo(f"== {title}: per code ==")
    typer.echo(result.per_code.to_string(float_format=lambda v: f"{v:.3f}"))
    typer.echo("\n== macro averages per family ==")
    typer.echo(result.families.to_string(float_format=lambda v: f"{v:.3f}"))
    typer.echo("\n== client talk type: confusion (rows expert, columns model) ==")
    typer.echo(result.confusion.to_string())
    typer.echo("\n== headline ==")
    for k, v in result.summary.items():
        typer.echo(f"{k:28} {v:.3f}" if not math.isnan(v) else f"{k:28} n/a")


@app.command()
def evaluate(
    model: Optional[Path] = typer.Option(None, "--model", "-m", help=f"Model folder; default models/{DEFAULT_MODEL_NAME}."),
    split: str = typer.Option("test", "--split", help="Corpus split to score (test or validation)."),
    cv: Optional[int] = typer.Option(None, "--cv", help="Instead: K-fold transcript-level cross-validation, "
                                     "training a fresh model per fold with the model's config."),
    cv_all: bool = typer.Option(False, "--cv-all", help="Fold all 105 transcripts (default: train+validation "
                                "transcripts only, leaving the test split untouched)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Override the epochs of each CV fold."),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write the tables (CSV) and summary.json here."),
    threads: Optional[int] = typer.Option(None, "--threads"),
    bf16: bool = typer.Option(True, "--bf16/--no-bf16", help="bf16 autocast at inference where supported "
                              "(--no-bf16 checks that it costs no accuracy)."),
) -> None:
    """Per-code precision, recall, F1, support and Cohen's kappa against the expert labels."""
    output_dir(out)
    if cv is None:
        clf = _load_model(model, threads=threads, bf16=bf16)
        if split not in ("test", "validation"):
            err.print(f"--split must be test or validation, not {split!r}", markup=False)
            raise typer.Exit(EXIT_BAD_INPUT)
        from coder.model.evaluate import evaluate as run

        corpus = _build_corpus(data, clf.cfg.context_size, welivita=False)
        result = run(clf, corpus[split])
        _print_evaluation(result, f"{clf.coder_id} on the {split} split ({len(corpus[split])} utterances)")
        if out:
            out.mkdir(parents=True, exist_ok=True)
            result.per_code.to_csv(out / "per_code.csv", index_label="code")
            result.families.to_csv(out / "families.csv")
            result.confusion.to_csv(out / "talk_confusion.csv")
            (out / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n", encoding="utf-8")
        return
    _cross_validate(model, cv, cv_all, epochs, data, out, threads)


def _cross_validate(model, k, cv_all, epochs, data, out, threads) -> None:
    from dataclasses import replace

    from coder.data.build import transcript_folds
    from coder.model.classifier import TrainConfig, UtteranceClassifier
    from coder.model.evaluate import cross_validate

    path = model or default_model_path()
    cfg = TrainConfig()
    if (path / "config.json").is_file():
        cfg = TrainConfig.from_dict(json.loads((path / "config.json").read_text(encoding="utf-8"))["train_config"])
    cfg = replace(cfg, epochs=epochs or cfg.epochs, threads=threads or cfg.threads)
    corpus = _build_corpus(data, cfg.context_size)
    splits = ("train", "validation", "test") if cv_all else ("train", "validation")
    records = [r for s in splits for r in corpus[s] if r["source"] == "annomi"]
    extra = [r for r in corpus["train"] if r["source"] != "annomi"]
    options = {"annomi_path": data / "annomi" / "AnnoMI-full.csv"} if data else {}
    folds = transcript_folds(k=k, seed=cfg.seed, include_test=cv_all, **options)
    err.print(f"{k}-fold cross-validation over {len(records)} AnnoMI utterances "
              f"({'all' if cv_all else 'train+validation'} transcripts) + {len(extra)} train-only", markup=False)

    def report(fold, result):
        s = result.summary
        err.print(f"fold {fold}: fine codes {s['annomi_fine_macro_f1']:.3f}, talk type {s['talk_type_macro_f1']:.3f}",
                  markup=False)
        if out and result.predictions is not None:  # each fold's work is kept as soon as it is done
            out.mkdir(parents=True, exist_ok=True)
            result.predictions.assign(fold=fold).to_csv(out / f"cv_fold{fold}_predictions.csv", index=False)
            result.per_code.to_csv(out / f"cv_fold{fold}_per_code.csv", index_label="code")

    result = cross_validate(records, folds, lambda: UtteranceClassifier(cfg), extra_train=extra, seed=cfg.seed,
                            on_fold=report)
    pd.set_option("display.width", 160)
    typer.echo("== per code: mean and sd over folds ==")
    typer.echo(result.per_code.to_string(float_format=lambda v: f"{v:.3f}"))
    typer.echo("\n== headline per fold ==")
    typer.echo(result.summary.to_string(float_format=lambda v: f"{v:.3f}"))
    typer.echo("\n== talk type confusion, all folds ==")
    typer.echo(result.confusion.to_string())
    if out:
        out.mkdir(parents=True, exist_ok=True)
        result.per_fold.to_csv(out / "cv_per_fold.csv", index=False)
        result.per_code.to_csv(out / "cv_per_code.csv", index_label="code")
        result.summary.to_csv(out / "cv_summary.csv")
        result.confusion.to_csv(out / "cv_talk_confusion.csv")
        if result.predictions is not None:
            result.predictions.to_csv(out / "cv_predictions.csv", index=False)
