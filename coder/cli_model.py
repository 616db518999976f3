"""``alliance-coder train | evaluate``: the classifier's commands, registered on :data:`coder.cli_app.app`.

``code`` lives in :mod:`coder.cli_run`.

Heavy imports (torch, transformers, datasets) happen inside the commands, so ``--help`` and
the other commands stay fast.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path
from typing import Optional

import pandas as pd
import typer

from coder.cli_app import EXIT_BAD_INPUT, app, err, fail, output_dir
from coder.errors import InputError
from coder.model import DEFAULT_MODEL_NAME, default_model_path


def _load_model(path: Optional[Path], *, runtime: str = "torch", **kwargs):
    """The model at ``path`` (default shipped model) on ``runtime``, or one error line and exit 2.

    ``torch`` (the trainable classifier) takes ``threads`` and ``bf16``; the ONNX runtimes
    (:mod:`coder.model.runtime`) take ``threads``.
    """
    from coder.model import load
    from coder.model.encoder import EncoderError
    from coder.model.runtime import load_runtime, resolve_runtime

    path = path or default_model_path()
    try:
        if resolve_runtime(runtime) == "torch":
            return load(path, **kwargs)
        return load_runtime(path, runtime=runtime, threads=kwargs.get("threads"))
    except ValueError as e:
        err.print(str(e), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    except (InputError, EncoderError) as e:
        if path == default_model_path() and not path.exists():
            err.print(f"{path}: no shipped model {DEFAULT_MODEL_NAME!r} yet; train one with "
                      f"`alliance-coder train --out {path}` or pass --model PATH", markup=False)
        else:
            err.print(str(e), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)


#: Corpus options (``coder.data.build.build_dataset`` keywords) that a model's ``config.json`` and a
#: cross-validation's ``cv_recipe.json`` record under ``data``; a model without them had these.
DATA_DEFAULTS = {"include_welivita": True, "include_constructed": True, "include_rewrites": True,
                 "rewrite_exclude": [], "include_mibot": True, "recode": True}


def _data_options(base: Optional[dict] = None, **given) -> dict:
    """:data:`DATA_DEFAULTS`, then ``base`` (a model's recorded options), then ``given`` (None: not
    given); ``rewrite_exclude`` as the sorted codes it names (an unknown one: one line, exit 2)."""
    from coder.data.rewrites import excluded_targets

    options = {**DATA_DEFAULTS, **{k: v for k, v in (base or {}).items() if k in DATA_DEFAULTS}}
    options.update({k: v for k, v in given.items() if v is not None and v != []})
    try:
        options["rewrite_exclude"] = excluded_targets(name for item in options["rewrite_exclude"]
                                                      for name in str(item).split(",") if name.strip())
    except InputError as e:
        fail(e)
    return options


def _build_corpus(data: Optional[Path], context: int, options: Optional[dict] = None):
    from coder.data.build import build_dataset

    options = {"context": context, **(options if options is not None else DATA_DEFAULTS)}
    if data is not None:
        options.update(annomi_path=data / "annomi" / "AnnoMI-full.csv", welivita_dir=data / "welivita-mi")
    try:
        return build_dataset(**options)
    except InputError as e:
        fail(e)


def _model_meta(path: Path) -> dict:
    """A model folder's ``config.json`` ({} when there is none)."""
    try:
        return json.loads((path / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError:
        fail(InputError(path / "config.json", "is not valid JSON"))


DATA_HELP = "Shared data folder with annomi/ and welivita-mi/; default ../shared/data."
REWRITE_EXCLUDE_HELP = ("Leave out the rewrite groups whose target is this code or family (repeatable or "
                        "comma-separated), e.g. withdrawal.")
#: Share of each fold's fit transcripts held back for validation (early stopping, thresholds).
VALIDATION_SHARE = 0.15
ATTENTION_DROPOUT_HELP = ("Dropout on attention probabilities in training (default: the encoder's, 0.1); 0 "
                          "lets torch use its fused attention kernel, faster on CPU.")
FUSED_HELP = "torch's fused AdamW kernel (the same update up to rounding; faster on CPU)."
RECODE_HELP = "Withdrawal codes from the guideline-1.1 recode (the default) or, --no-recode, the first pass."


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
    attention_dropout: Optional[float] = typer.Option(None, "--attention-dropout", help=ATTENTION_DROPOUT_HELP),
    fused_adamw: bool = typer.Option(False, "--fused-adamw/--no-fused-adamw", help=FUSED_HELP),
    threads: Optional[int] = typer.Option(None, "--threads"),
    limit: Optional[int] = typer.Option(None, "--limit", help="Train on a seeded random N examples (smoke runs)."),
    welivita: bool = typer.Option(True, "--welivita/--no-welivita", help="Add the Welivita forum data (train only)."),
    rewrites: bool = typer.Option(True, "--rewrites/--no-rewrites", help="Add the counterfactual rewrites of "
                                  "train transcripts (train only)."),
    rewrite_exclude: list[str] = typer.Option([], "--rewrite-exclude", help=REWRITE_EXCLUDE_HELP),
    mibot: bool = typer.Option(True, "--mibot/--no-mibot", help="Add the project's MIBot labels (train only)."),
    recode: bool = typer.Option(True, "--recode/--no-recode", help=RECODE_HELP),
    corrections: Optional[Path] = typer.Option(None, "--corrections", help="Review database: fine-tune the current "
                                               "model (--model) on its corrections plus the corpus; written only "
                                               "if not worse on the untouched test split."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="With --corrections: the model to start from; "
                                         f"default models/{DEFAULT_MODEL_NAME}."),
) -> None:
    """Fine-tune the classifier on the corpus (train split; validation for early stopping and thresholds).

    The model's ``config.json`` records the corpus options under ``data``.
    """
    output_dir(out)
    options = _data_options(include_welivita=welivita, include_rewrites=rewrites, rewrite_exclude=rewrite_exclude,
                            include_mibot=mibot, recode=recode)
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
                                            corpus=_build_corpus(data, context, options),
                                            config=RetrainConfig(train={"epochs": epochs, "seed": seed}))
        except (InputError, EncoderError, FileNotFoundError) as e:
            err.print(str(e), markup=False)
            raise typer.Exit(EXIT_BAD_INPUT)
        err.print(info["reason"], markup=False)
        return

    cfg = TrainConfig(encoder=str(encoder) if encoder else None, epochs=epochs, batch_size=batch_size, lr=lr,
                      head_lr=head_lr, context_size=context_size, max_length=max_length, seed=seed,
                      patience=patience, bf16=bf16, threads=threads, max_train_examples=limit,
                      attention_dropout=attention_dropout, fused_optimizer=fused_adamw)
    corpus = _build_corpus(data, context_size, options)
    err.print(f"training on {len(corpus['train'])} examples (validation {len(corpus['validation'])})", markup=False)
    t0 = time.perf_counter()
    checkpoint = out / ".checkpoints" / "train.pt"  # the same command after a kill resumes at the last epoch
    try:
        clf = UtteranceClassifier(cfg, version=out.name).fit(corpus["train"], corpus["validation"],
                                                             checkpoint=checkpoint)
    except EncoderError as e:
        err.print(str(e), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    clf.save(out)
    _record_data_options(out, options)
    checkpoint.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        checkpoint.parent.rmdir()  # only when empty
    if clf.resumed_after_:
        err.print(f"resumed after epoch {clf.resumed_after_} from {checkpoint}", markup=False)
    for h in clf.history_:
        err.print(f"epoch {h['epoch']}: loss {h['train_loss']:.4f}, validation macro-F1 "
                  f"{h.get('val_macro_f1', float('nan')):.3f}, {h['train_seconds']:.0f} s "
                  f"({'bf16' if h['bf16'] else 'fp32'})", markup=False)
    err.print(f"saved {out} in {time.perf_counter() - t0:.0f} s; next: alliance-coder evaluate --model {out}",
              markup=False)


def _record_data_options(folder: Path, options: dict) -> None:
    """Add the corpus options to a saved model's ``config.json`` (``data``), so the folder states its recipe."""
    from coder.tables_io import write_text

    meta = _model_meta(folder)
    meta["data"] = options
    write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", folder / "config.json")


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
    resume: bool = typer.Option(False, "--resume", help="With --cv: continue the cross-validation in --out (same "
                                "recipe, cv_recipe.json): finished folds are read back, not retrained."),
    overwrite: bool = typer.Option(False, "--overwrite", help="With --cv: replace an earlier cross-validation in --out."),
    welivita: Optional[bool] = typer.Option(None, "--welivita/--no-welivita", help="With --cv: the Welivita forum "
                                            "data in each fold's training set (default: as the model was trained)."),
    rewrites: Optional[bool] = typer.Option(None, "--rewrites/--no-rewrites", help="With --cv: the counterfactual "
                                            "rewrites (default: as the model was trained)."),
    rewrite_exclude: list[str] = typer.Option([], "--rewrite-exclude", help=REWRITE_EXCLUDE_HELP),
    mibot: Optional[bool] = typer.Option(None, "--mibot/--no-mibot", help="With --cv: the MIBot labels (default: "
                                         "as the model was trained)."),
    recode: Optional[bool] = typer.Option(None, "--recode/--no-recode", help=RECODE_HELP),
    context_size: Optional[int] = typer.Option(None, "--context-size", help="With --cv: previous utterances as "
                                               "context (default: the model's)."),
    max_length: Optional[int] = typer.Option(None, "--max-length", help="With --cv: longest input in tokens "
                                             "(default: the model's)."),
    attention_dropout: Optional[float] = typer.Option(None, "--attention-dropout", help="With --cv: "
                                                      + ATTENTION_DROPOUT_HELP),
    fused_adamw: Optional[bool] = typer.Option(None, "--fused-adamw/--no-fused-adamw", help="With --cv: " + FUSED_HELP
                                               + " Default: as the model was trained."),
    threads: Optional[int] = typer.Option(None, "--threads"),
    bf16: bool = typer.Option(True, "--bf16/--no-bf16", help="bf16 autocast at inference where supported "
                              "(--no-bf16 checks that it costs no accuracy); with --cv, --no-bf16 also trains "
                              "the folds in fp32 (faster on CPUs without AMX)."),
    runtime: str = typer.Option("torch", "--runtime", help="What runs the network: torch (as the model was "
                                "validated), onnx-fp32 or onnx-int8 (what `code` uses by default)."),
) -> None:
    """Per-code precision, recall, F1, support and Cohen's kappa against the expert labels.

    ``--cv K`` trains one model per fold with the model's training config and corpus options
    (``config.json``), each overridable here. With ``--out`` every fold is kept as soon as it is
    scored, and ``--resume`` continues a killed run of the same recipe.
    """
    output_dir(out)
    given = dict(include_welivita=welivita, include_rewrites=rewrites, rewrite_exclude=rewrite_exclude,
                 include_mibot=mibot, recode=recode)
    if (resume or overwrite) and (cv is None or out is None):
        fail("--resume and --overwrite go with --cv and --out")
    if cv is None:
        clf = _load_model(model, runtime=runtime, threads=threads, bf16=bf16)
        if split not in ("test", "validation"):
            err.print(f"--split must be test or validation, not {split!r}", markup=False)
            raise typer.Exit(EXIT_BAD_INPUT)
        from coder.model.evaluate import evaluate as run

        options = _data_options(_model_meta(model or default_model_path()).get("data"), **given)
        corpus = _build_corpus(data, clf.cfg.context_size, {**options, "include_welivita": False})
        result = run(clf, corpus[split])
        _print_evaluation(result, f"{clf.coder_id} on the {split} split ({len(corpus[split])} utterances)")
        if out:
            out.mkdir(parents=True, exist_ok=True)
            result.per_code.to_csv(out / "per_code.csv", index_label="code")
            result.families.to_csv(out / "families.csv")
            result.confusion.to_csv(out / "talk_confusion.csv")
            (out / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n", encoding="utf-8")
        return
    if cv < 2:
        fail(f"--cv needs at least 2 folds, not {cv}")
    _cross_validate(model, cv, cv_all, data, out, given, resume=resume, overwrite=overwrite,
                    train={"epochs": epochs, "threads": threads, "context_size": context_size,
                           "max_length": max_length, "bf16": None if bf16 else False,
                           "attention_dropout": attention_dropout, "fused_optimizer": fused_adamw})


def _cross_validate(model: Optional[Path], k: int, cv_all: bool, data: Optional[Path], out: Optional[Path],
                    given: dict, *, resume: bool, overwrite: bool, train: dict) -> None:
    """``evaluate --cv``: the recipe from the model folder and the options, folds kept in ``out``."""
    from dataclasses import asdict, replace

    from coder.data.build import transcript_folds
    from coder.model.classifier import UtteranceClassifier
    from coder.model.config import TrainConfig
    from coder.model.cv_store import FoldStore, cv_recipe, prepare_folder
    from coder.model.evaluate import cross_validate

    if out is not None:
        try:  # before the corpus is built: a folder that cannot be used is said at once
            prepare_folder(out, resume=resume, overwrite=overwrite)
        except InputError as e:
            fail(e)
    meta = _model_meta(model or default_model_path())
    cfg = TrainConfig.from_dict(meta["train_config"]) if "train_config" in meta else TrainConfig()
    cfg = replace(cfg, **{key: value for key, value in train.items() if value is not None})
    options = _data_options(meta.get("data"), **given)
    corpus = _build_corpus(data, cfg.context_size, options)
    splits = ("train", "validation", "test") if cv_all else ("train", "validation")
    records = [r for s in splits for r in corpus[s] if r["source"] == "annomi"]
    extra = [r for r in corpus["train"] if r["source"] != "annomi"]
    paths = {"annomi_path": data / "annomi" / "AnnoMI-full.csv"} if data else {}
    folds = transcript_folds(k=k, seed=cfg.seed, include_test=cv_all, **paths)
    store, done = None, {}
    if out is not None:
        store = FoldStore(out, cv_recipe(asdict(cfg), options, folds, records, extra, cv_all=cv_all,
                                         validation_share=VALIDATION_SHARE, seed=cfg.seed))
        try:
            store.start()
        except InputError as e:
            fail(e)
        done = store.completed()
    err.print(f"{k}-fold cross-validation over {len(records)} AnnoMI utterances "
              f"({'all' if cv_all else 'train+validation'} transcripts) + {len(extra)} train-only", markup=False)
    for fold in sorted(done):
        _report_fold(fold, done[fold], "kept from the earlier run")

    def kept(fold, result):  # each fold's work is kept as soon as it is done
        if store is not None:
            store.save(fold, result)
        _report_fold(fold, result)

    result = cross_validate(records, folds, lambda: UtteranceClassifier(cfg), extra_train=extra,
                            validation_share=VALIDATION_SHARE, seed=cfg.seed, on_fold=kept, done=done,
                            checkpoints=store.checkpoints if store is not None else None)
    pd.set_option("display.width", 160)
    typer.echo("== per code: mean and sd over folds ==")
    typer.echo(result.per_code.to_string(float_format=lambda v: f"{v:.3f}"))
    typer.echo("\n== headline per fold ==")
    typer.echo(result.summary.to_string(float_format=lambda v: f"{v:.3f}"))
    typer.echo("\n== talk type confusion, all folds ==")
    typer.echo(result.confusion.to_string())
    if store is not None:
        store.write_tables(result)


def _report_fold(fold: int, result, note: str = "") -> None:
    s = result.summary
    err.print(f"fold {fold}: fine codes {s['annomi_fine_macro_f1']:.3f}, talk type {s['talk_type_macro_f1']:.3f}"
              + (f" ({note})" if note else ""), markup=False)
