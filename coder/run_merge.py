"""Join the output folders of a sharded run (``code --shard i/n``) into one set of tables and one report.

The shards' parts stay where they are; the merged folder gets the corpus tables, the report and
a manifest naming the shards. Sessions sort in corpus order (input file, then session within
the file), which every shard computes the same way, so the merged tables equal those of the
unsharded run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from coder import __version__
from coder.run_output import OutputError, check_output_dir, json_hash, prepare_output, read_manifest, write_manifest
from coder.run_parts import assemble, run_parts


@dataclass
class MergeResult:
    """What :func:`merge_runs` wrote: the folder, the sessions (in order) and the table paths."""

    out: Path
    session_ids: list[str] = field(default_factory=list)
    n_utterances: int = 0
    shards: list[str] = field(default_factory=list)
    paths: dict = field(default_factory=dict)


def _without_shard(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k != "shard"}


def merge_runs(folders, out, *, calibration=None, report: bool = True, overwrite: bool = False,
               rollup=None) -> MergeResult:
    """Merge finished shard folders into ``out``.

    Parameters
    ----------
    folders : list of path-like
        Output folders of ``code --shard i/n`` runs with the same model, options and inputs; all
        ``n`` shards must be there.
    out : path-like
        The merged folder (new, empty, or ``overwrite``).
    calibration : Calibration or path-like, optional
    report : bool
    overwrite : bool
    rollup : RollupConfig, optional
        Default: the shards' roll-up settings (the report is drawn with them).

    Raises
    ------
    OutputError
        A folder that is not a finished run, shards of different settings or inputs, a missing
        or repeated shard, or an unusable ``out`` (all before anything is written).
    """
    check_output_dir(out)
    folders = [Path(f) for f in folders]
    manifests = []
    for folder in folders:
        manifest = read_manifest(folder)
        if manifest is None:
            raise OutputError(folder, "is not an alliance-coder run (no run.json)")
        if manifest.get("status") != "complete":
            raise OutputError(folder, "holds an unfinished run; finish it with `code ... --resume` first")
        manifests.append(manifest)
    first = manifests[0]
    for folder, manifest in zip(folders[1:], manifests[1:]):
        if json_hash(_without_shard(manifest["settings"])) != json_hash(_without_shard(first["settings"])):
            raise OutputError(folder, f"was coded with other settings than {folders[0]}")
        if [sha for _, sha in manifest.get("inputs_all", [])] != [sha for _, sha in first.get("inputs_all", [])]:
            raise OutputError(folder, f"was coded from other inputs than {folders[0]}")
    shards = [m["settings"].get("shard") for m in manifests]
    if all(shards):
        n = shards[0][1]
        have = sorted(s[0] for s in shards)
        if any(s[1] != n for s in shards) or have != list(range(n)):
            missing = sorted(set(range(n)) - set(have))
            what = f"missing shard(s) {', '.join(f'{i}/{n}' for i in missing)}" if missing else "repeated shards"
            raise OutputError(folders[0], f"cannot merge: {what}")
    elif any(shards):
        raise OutputError(folders[0], "cannot merge sharded with unsharded runs")
    parts = [p for folder, m in zip(folders, manifests) for p in run_parts(folder, m)]
    seen: dict[str, Path] = {}
    for part in parts:
        if part.session_id in seen:
            raise OutputError(part.folder.parent.parent, f"session {part.session_id!r} is also in {seen[part.session_id]}")
        seen[part.session_id] = part.folder.parent.parent
    if not all(shards):  # separate corpora: keep the folders' order
        parts = [type(p)((i, *p.order), p.session_id, p.key, p.folder)
                 for i, (folder, m) in enumerate(zip(folders, manifests)) for p in run_parts(folder, m)]
    settings = {**first["settings"], "shard": None, "merged_from": [str(f.absolute()) for f in folders]}
    prepare_output(out, settings, resume=False, overwrite=overwrite)
    cal = calibration
    if isinstance(cal, (str, Path)):
        from coder.rollup.calibrate import Calibration

        cal = Calibration.load(cal)
    cfg = rollup or _rollup_from(first["settings"].get("rollup") or {})
    out = Path(out)
    paths = assemble(out, parts, config=cfg, calibration=cal, report=report)
    ordered = sorted(parts, key=lambda p: p.order)
    write_manifest(out, {"format": 1, "tool": f"alliance-coder {__version__}", "status": "complete",
                         "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                         "settings": settings, "settings_hash": json_hash(settings),
                         "inputs_all": first.get("inputs_all"),
                         "sessions": [{"session_id": p.session_id, "key": p.key, "order": list(p.order),
                                       "folder": str(p.folder.absolute())} for p in ordered]})
    n_utt = sum(s.get("n_utterances", 0) for m in manifests for s in m.get("sessions", []))
    return MergeResult(out, [p.session_id for p in ordered], n_utt,
                       [f"{s[0]}/{s[1]}" for s in shards if s], paths)


def _rollup_from(data: dict):
    """The RollupConfig recorded in a manifest (nested configs rebuilt); the default if it does not fit."""
    from coder.rollup.episodes import EpisodeConfig
    from coder.rollup.mapping import ScaleMapping
    from coder.rollup.scores import RollupConfig

    try:
        data = dict(data)
        episodes = EpisodeConfig(**data.pop("episodes")) if "episodes" in data else EpisodeConfig()
        mapping = ScaleMapping(**data.pop("mapping")) if "mapping" in data else ScaleMapping()
        return RollupConfig(**data, episodes=episodes, mapping=mapping)
    except (TypeError, ValueError):
        return RollupConfig()
