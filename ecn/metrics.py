"""Metrics: MAE and RMSE for regression; precision per class, ROC-AUC and accuracy for classification."""

from __future__ import annotations

import numpy as np

__all__ = ["regression_metrics", "classification_metrics", "roc_auc"]


def regression_metrics(pred: np.ndarray, true: np.ndarray, names) -> dict:
    """Per-target and mean MAE / RMSE, ignoring missing (NaN) targets.

    >>> regression_metrics(np.array([[1.0], [3.0]]), np.array([[2.0], [3.0]]), ["e"])["mae"]
    0.5
    """
    out = {}
    maes = []
    for k, name in enumerate(names):
        ok = np.isfinite(true[:, k])
        err = pred[ok, k] - true[ok, k]
        mae = float(np.mean(np.abs(err))) if ok.any() else float("nan")
        out[f"mae_{name}"] = mae
        out[f"rmse_{name}"] = float(np.sqrt(np.mean(err**2))) if ok.any() else float("nan")
        maes.append(mae)
    out["mae"] = float(np.nanmean(maes))
    return out


def roc_auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney statistic, ties counted half).

    >>> roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    0.75
    """
    pos, neg = score[label == 1], score[label == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def classification_metrics(logit: np.ndarray, true: np.ndarray, names) -> dict:
    """Precision of each class, accuracy, ROC-AUC and cross-entropy per binary target."""
    out = {}
    aucs, losses = [], []
    for k, name in enumerate(names):
        ok = np.isfinite(true[:, k])
        y, z = true[ok, k].astype(int), logit[ok, k]
        p = 1 / (1 + np.exp(-z))
        guess = (z > 0).astype(int)
        for c in (0, 1):
            chosen = guess == c
            out[f"precision_{c}_{name}"] = float(np.mean(y[chosen] == c)) if chosen.any() else float("nan")
        out[f"accuracy_{name}"] = float(np.mean(guess == y)) if len(y) else float("nan")
        aucs.append(roc_auc(z, y))
        out[f"roc_auc_{name}"] = aucs[-1]
        eps = 1e-12
        losses.append(float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))) if len(y) else float("nan"))
    finite = [a for a in aucs if np.isfinite(a)]
    out["roc_auc"] = float(np.mean(finite)) if finite else float("nan")  # undefined when a split has one class
    finite = [v for v in losses if np.isfinite(v)]
    out["cross_entropy"] = float(np.mean(finite)) if finite else float("nan")
    return out
