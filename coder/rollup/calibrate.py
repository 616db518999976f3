"""Calibrate the roll-up to a lab's own human observer ratings (any scale: VTAS, VTAS-R, WAI-O …).

A ridge regression (scikit-learn: median imputation → standardisation → ``RidgeCV``) maps the
session features of ``sessions.csv`` (the four scales, the MITI-style indicators, episode counts)
to each human rating column. It is judged by **cross-validated** predictions (K-fold, fixed
seed): ICC(2,1) (two-way random effects, absolute agreement, single rater; Shrout & Fleiss 1979)
and Pearson r between the held-out predictions and the human ratings. The final map is refitted
on all sessions and stored as plain numbers (medians, means, scales, coefficients), so applying a
calibration needs no pickled objects; ``.json`` is the default format, ``.joblib`` also works.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from coder import __version__
from coder.errors import InputError
from coder.rollup.mapping import SCALES

DEFAULT_FEATURES = (
    *SCALES, "reflection_question_ratio", "pct_complex_reflections", "pct_open_questions", "helpful_per_100",
    "harmful_per_100", "change_talk_share", "n_rupture_episodes", "n_unresolved",
)
ID_COLUMNS = ("session_id", "transcript_id", "id")
#: Non-rating columns a ratings file may carry.
IGNORED_COLUMNS = {"annotator", "rater", "coder", "coder_id", "rationale", "notes", "comment"}


@dataclass
class CalibrationConfig:
    """How a calibration is fitted.

    Attributes
    ----------
    features : tuple of str
        Columns of the sessions table used as predictors (``n_unresolved`` is derived).
    alphas : tuple of float
        Ridge penalties searched by ``RidgeCV`` (inner leave-one-out).
    n_splits : int
        Outer cross-validation folds (at most the number of sessions).
    seed : int
        Seed of the fold assignment.
    clip : bool
        Clip predictions to the range of the human ratings seen in fitting.
    """

    features: tuple[str, ...] = DEFAULT_FEATURES
    alphas: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
    n_splits: int = 5
    seed: int = 0
    clip: bool = True


def icc_2_1(a, b, *more) -> float:
    """ICC(2,1) of raters' scores (two-way random, absolute agreement, single measures).

    Parameters
    ----------
    a, b, *more : array-like
        Paired scores of the same targets, one array per rater.

    Returns
    -------
    float
        NaN with fewer than two targets or no variance at all.
    """
    y = np.column_stack([np.asarray(v, float) for v in (a, b, *more)])
    n, k = y.shape
    if n < 2:
        return math.nan
    grand = y.mean()
    msr = k * ((y.mean(1) - grand) ** 2).sum() / (n - 1)
    msc = n * ((y.mean(0) - grand) ** 2).sum() / (k - 1)
    resid = y - y.mean(1, keepdims=True) - y.mean(0, keepdims=True) + grand
    mse = (resid ** 2).sum() / ((n - 1) * (k - 1))
    denom = msr + (k - 1) * mse + k * (msc - mse) / n
    return float((msr - mse) / denom) if denom > 0 else math.nan


def pearson_r(a, b) -> float:
    """Pearson correlation; NaN when either side is constant."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def session_features(sessions_table: pd.DataFrame, features=DEFAULT_FEATURES) -> pd.DataFrame:
    """The predictor matrix (sessions × ``features``), indexed by ``session_id`` as strings."""
    table = sessions_table.copy()
    if "n_unresolved" not in table.columns and {"n_rupture_episodes", "n_resolved"} <= set(table.columns):
        table["n_unresolved"] = table["n_rupture_episodes"] - table["n_resolved"]
    missing = [f for f in features if f not in table.columns]
    if missing:
        raise ValueError(f"sessions table lacks feature column(s) {', '.join(missing)}")
    out = table[list(features)].apply(pd.to_numeric, errors="coerce")
    out.index = table["session_id"].astype(str)
    return out


def read_ratings_table(path: str | Path, targets=None) -> pd.DataFrame:
    """Human ratings per session, averaged over raters.

    Parameters
    ----------
    path : path-like
        CSV with an id column (``session_id``, ``transcript_id`` or ``id``) and one or more
        numeric rating columns; ``annotator``/``rater``/``rationale``-style columns are ignored,
        and several rows per session (raters) are averaged.
    targets : list of str, optional
        Rating columns to use (default: every numeric column).

    Returns
    -------
    pandas.DataFrame
        Indexed by session id (str), one column per target.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(path, f"could not read ratings ({' '.join(str(err).split())})") from None
    ids = [c for c in ID_COLUMNS if c in frame.columns]
    if not ids:
        raise InputError(path, f"no id column (one of {', '.join(ID_COLUMNS)})", line=1)
    candidates = [c for c in frame.columns if c not in ids and c.lower() not in IGNORED_COLUMNS]
    numeric = {c: pd.to_numeric(frame[c].replace("", np.nan), errors="coerce") for c in candidates}
    if targets:
        bad = [t for t in targets if t not in numeric]
        if bad:
            raise InputError(path, f"no rating column(s) {', '.join(bad)}", line=1)
        chosen = list(targets)
    else:
        chosen = [c for c, v in numeric.items() if v.notna().any() and v.notna().sum() >= 0.5 * len(v)]
    if not chosen:
        raise InputError(path, "no numeric rating column", line=1)
    out = pd.DataFrame({c: numeric[c] for c in chosen})
    out.index = frame[ids[0]].str.strip()
    return out.groupby(level=0, sort=False).mean()


def _pipeline(cfg: CalibrationConfig):
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                         RidgeCV(alphas=cfg.alphas))


@dataclass
class Calibration:
    """A fitted mapping from session features to human ratings, stored as plain numbers.

    Attributes
    ----------
    features : list of str
    targets : dict
        Per rating column: ``medians``, ``means``, ``scales`` (imputation and standardisation per
        feature), ``coef``, ``intercept``, ``alpha``, ``range`` ([min, max] of the human
        ratings), ``cv`` (``icc21``, ``pearson_r``, ``n``, ``n_splits``).
    clip : bool
    version : str
        alliance-coder version that fitted it.
    """

    features: list[str]
    targets: dict[str, dict] = field(default_factory=dict)
    clip: bool = True
    version: str = __version__

    def predict(self, sessions_table: pd.DataFrame) -> pd.DataFrame:
        """Calibrated ratings for every row of a sessions table (index: ``session_id``)."""
        x = session_features(sessions_table, self.features).to_numpy(float)
        out = {}
        for name, t in self.targets.items():
            filled = np.where(np.isnan(x), np.asarray(t["medians"]), x)
            z = (filled - np.asarray(t["means"])) / np.asarray(t["scales"])
            pred = z @ np.asarray(t["coef"]) + t["intercept"]
            out[name] = np.clip(pred, *t["range"]) if self.clip else pred
        return pd.DataFrame(out, index=sessions_table["session_id"].astype(str))

    def apply(self, sessions_table: pd.DataFrame) -> pd.DataFrame:
        """``sessions_table`` with a ``calibrated_<target>`` column per target (rounded to 3)."""
        pred = self.predict(sessions_table)
        out = sessions_table.copy()
        for name in self.targets:
            out[f"calibrated_{name}"] = np.round(pred[name].to_numpy(), 3)
        return out

    def metrics(self) -> pd.DataFrame:
        """Cross-validated ICC(2,1) and Pearson r per target."""
        return pd.DataFrame([{"target": k, **v["cv"], "alpha": v["alpha"]} for k, v in self.targets.items()])

    def save(self, path: str | Path) -> Path:
        """Write as JSON (default) or joblib (``.joblib``/``.pkl`` suffix)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix in (".joblib", ".pkl"):
            import joblib

            joblib.dump(asdict(self), path)
        else:
            path.write_text(json.dumps(asdict(self), indent=2, allow_nan=True) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Calibration":
        """Read a calibration written by :meth:`save`; InputError when unusable."""
        path = Path(path)
        try:
            if path.suffix in (".joblib", ".pkl"):
                import joblib

                data = joblib.load(path)
            else:
                data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError, KeyError) as err:
            raise InputError(path, f"not a calibration file ({' '.join(str(err).split())})") from None


def fit_calibration(sessions_table: pd.DataFrame, ratings: pd.DataFrame, *,
                    config: CalibrationConfig | None = None) -> Calibration:
    """Fit and cross-validate a calibration.

    Parameters
    ----------
    sessions_table : pandas.DataFrame
        ``sessions.csv`` of the coded sessions (:func:`coder.rollup.tables.rollup`).
    ratings : pandas.DataFrame
        Human ratings indexed by session id, one column per target (:func:`read_ratings_table`).
    config : CalibrationConfig, optional

    Returns
    -------
    Calibration
        With cross-validated ``icc21`` and ``pearson_r`` per target in ``targets[name]["cv"]``.

    Raises
    ------
    ValueError
        With fewer than 3 sessions that have both features and a rating.
    """
    from sklearn.model_selection import KFold

    cfg = config or CalibrationConfig()
    x_all = session_features(sessions_table, cfg.features)
    common = [s for s in x_all.index if s in ratings.index]
    if len(common) < 3:
        raise ValueError(f"only {len(common)} session(s) have both codes and ratings; need at least 3")
    x = x_all.loc[common].to_numpy(float)
    cal = Calibration(features=list(cfg.features), clip=cfg.clip)
    for name in ratings.columns:
        y_all = ratings.loc[common, name].to_numpy(float)
        keep = ~np.isnan(y_all)
        xs, ys = x[keep], y_all[keep]
        if len(ys) < 3:
            continue
        k = max(2, min(cfg.n_splits, len(ys)))
        pred = np.empty(len(ys))
        for train, test in KFold(n_splits=k, shuffle=True, random_state=cfg.seed).split(xs):
            pred[test] = _pipeline(cfg).fit(xs[train], ys[train]).predict(xs[test])
        lo, hi = float(ys.min()), float(ys.max())
        if cfg.clip:
            pred = np.clip(pred, lo, hi)
        imputer, scaler, ridge = _pipeline(cfg).fit(xs, ys)
        cal.targets[name] = {
            "coef": [float(c) for c in ridge.coef_], "intercept": float(ridge.intercept_),
            "medians": [float(v) for v in imputer.statistics_], "means": [float(v) for v in scaler.mean_],
            "scales": [float(v) for v in scaler.scale_], "alpha": float(ridge.alpha_), "range": [lo, hi],
            "cv": {"icc21": round(icc_2_1(ys, pred), 4), "pearson_r": round(pearson_r(ys, pred), 4),
                   "n": int(len(ys)), "n_splits": int(k)},
        }
    if not cal.targets:
        raise ValueError("no rating column has at least 3 rated sessions")
    return cal
