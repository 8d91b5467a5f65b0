"""Behaviour, not types: values that a one-line bug in training, metrics or the build would change.

Each test names the planted bugs it was checked against (see docs/contributing.md, "Mutation testing").
"""

import csv
import dataclasses
import json
import math
import re
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import read_cifs

from ecn import train as train_module
from ecn.checkpoint import load_checkpoint, save_checkpoint
from ecn.config import TrainConfig
from ecn.metrics import classification_metrics, regression_metrics, roc_auc
from ecn.train import Normalizer, train

SMALL = dict(width=16, layers=2, edge_dim=8, batch_size=16, workers=1, quiet=True, deterministic=True)


@pytest.fixture(autouse=True)
def _env(data_dir, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ECN_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ECN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "ecn-cache"))


# -- metrics against hand-computed values ---------------------------------------------------------------


def test_regression_metrics_tell_mae_from_mse_and_rmse():
    # errors of target "a": 1, -3 (and a NaN target, ignored); of "b": 0, 2, 4
    pred = np.array([[2.0, 1.0], [0.0, 3.0], [5.0, 9.0]])
    true = np.array([[1.0, 1.0], [3.0, 1.0], [np.nan, 5.0]])
    m = regression_metrics(pred, true, ["a", "b"])
    assert m["mae_a"] == pytest.approx(2.0)  # MSE would be 5, RMSE sqrt(5)
    assert m["rmse_a"] == pytest.approx(math.sqrt(5.0))
    assert m["mae_b"] == pytest.approx(2.0)  # (0 + 2 + 4) / 3; MSE 20/3, RMSE 2.582
    assert m["rmse_b"] == pytest.approx(math.sqrt(20.0 / 3.0))
    assert m["mae"] == pytest.approx(2.0)
    m = regression_metrics(np.array([[0.0], [0.0]]), np.array([[0.5], [-3.0]]), ["c"])
    assert (m["mae"], m["rmse_c"]) == (pytest.approx(1.75), pytest.approx(math.sqrt((0.25 + 9.0) / 2)))


def test_mean_mae_is_the_mean_over_targets_of_the_finite_ones():
    m = regression_metrics(np.array([[1.0, 0.0]]), np.array([[0.0, np.nan]]), ["a", "b"])
    assert math.isnan(m["mae_b"]) and m["mae"] == 1.0
    m = regression_metrics(np.array([[1.0, 0.0]]), np.array([[0.0, 4.0]]), ["a", "b"])
    assert m["mae"] == pytest.approx(2.5)


def test_classification_metrics_by_hand():
    z = np.array([[2.0], [-1.0], [0.5], [-3.0], [1.5]])  # logits; decisions: 1 0 1 0 1
    y = np.array([[1.0], [0.0], [0.0], [1.0], [1.0]])
    m = classification_metrics(z, y, ["s"])
    assert m["accuracy_s"] == pytest.approx(3 / 5)
    assert m["precision_1_s"] == pytest.approx(2 / 3)  # decided 1: rows 0, 2, 4; two are 1
    assert m["precision_0_s"] == pytest.approx(1 / 2)  # decided 0: rows 1, 3; one is 0
    # positives 2, -3, 1.5 against negatives -1, 0.5: 2 > both, -3 > none, 1.5 > both -> 4 of 6
    assert m["roc_auc_s"] == m["roc_auc"] == pytest.approx(4 / 6)
    sig = lambda v: 1 / (1 + math.exp(-v))
    ce = -(math.log(sig(2.0)) + math.log(1 - sig(-1.0)) + math.log(1 - sig(0.5)) + math.log(sig(-3.0))
           + math.log(sig(1.5))) / 5
    assert m["cross_entropy"] == pytest.approx(ce, rel=1e-9)
    assert m["cross_entropy"] == pytest.approx(0.93285, abs=1e-4)


def test_roc_auc_counts_ties_half_and_is_undefined_with_one_class():
    assert roc_auc(np.array([1.0, 1.0, 0.0]), np.array([1, 0, 0])) == pytest.approx(0.75)
    assert math.isnan(roc_auc(np.array([1.0, 2.0]), np.array([1, 1])))
    assert roc_auc(np.array([0.9, 0.1]), np.array([0, 1])) == 0.0  # a perfectly wrong ranking


def test_roc_auc_with_one_class_is_nan_without_a_warning():
    """Either class empty: NaN straight away (not 0 / 0, which numpy answers with a RuntimeWarning)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(roc_auc(np.array([1.0, 2.0]), np.array([1, 1])))
        assert math.isnan(roc_auc(np.array([1.0, 2.0]), np.array([0, 0])))
        assert math.isnan(roc_auc(np.array([]), np.array([], dtype=int)))


def test_classification_metrics_decisions_and_cross_entropy_at_the_edges():
    """Class 1 only for p > 0.5 (logit > 0; a logit of exactly 0 or of -0.5 is class 0); each
    target's own ROC-AUC; the cross-entropy stays finite for confidently wrong logits (log(p + eps))."""
    z = np.array([[0.0, 3.0], [-0.5, -2.0], [60.0, 1.0], [-60.0, -1.0]])
    y = np.array([[0.0, 1.0], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    m = classification_metrics(z, y, ["a", "b"])
    assert m["precision_0_a"] == pytest.approx(2 / 3)  # decided 0: rows 0, 1, 3 (logits 0, -0.5, -60)
    assert m["precision_1_a"] == 0.0 and m["accuracy_a"] == pytest.approx(2 / 4)
    # per target: a's positive (-60) is below every negative, b ranks 3 > 1 > -1 > -2 with positives 3, -1
    assert m["roc_auc_a"] == 0.0 and m["roc_auc_b"] == pytest.approx(3 / 4)
    assert m["roc_auc"] == pytest.approx(3 / 8)
    eps = 1e-12
    sig = lambda v: 1 / (1 + math.exp(-v))
    ce_a = -(math.log(1 - sig(0.0) + eps) + math.log(1 - sig(-0.5) + eps) + math.log(1 - sig(60.0) + eps)
             + math.log(sig(-60.0) + eps)) / 4
    assert math.isfinite(m["cross_entropy"]) and ce_a > 13  # two confidently wrong rows, -log(1e-12) each, of 4
    ce_b = -(math.log(sig(3.0)) + math.log(1 - sig(-2.0)) + math.log(1 - sig(1.0)) + math.log(sig(-1.0))) / 4
    assert m["cross_entropy"] == pytest.approx((ce_a + ce_b) / 2, rel=1e-6)


def test_score_lower_is_better_validation_mae_or_minus_roc_auc():
    reg = TrainConfig()
    cls = TrainConfig(task="classification", targets=("stable",))
    assert train_module._score({"mae": 0.25, "roc_auc": 0.9}, reg) == 0.25
    assert train_module._score({"mae": 0.1, "roc_auc": 0.9}, cls) == -0.9
    assert train_module._score({"roc_auc": 0.9}, cls) < train_module._score({"roc_auc": 0.6}, cls)


# -- normalisation ------------------------------------------------------------------------------------


def test_normaliser_values_intensive_and_extensive():
    y = np.array([[1.0, 10.0], [3.0, 20.0], [-2.0, 30.0], [np.nan, np.nan]])
    n = Normalizer.fit(y, True, extensive=[True, False])
    assert n.mean == (0.0, pytest.approx(20.0))  # an extensive target is not shifted
    assert n.std == (pytest.approx(math.sqrt(14 / 3)), pytest.approx(math.sqrt(200 / 3)))  # RMS; population std
    both = Normalizer.fit(y, True)
    assert both.mean == (pytest.approx(2 / 3), pytest.approx(20.0))
    assert both.std[0] == pytest.approx(np.std([1.0, 3.0, -2.0]))
    assert Normalizer.fit(y, False) == Normalizer((0.0, 0.0), (1.0, 1.0))
    assert Normalizer.fit(np.array([[4.0], [4.0]]), True).std == (1.0,)  # a constant target: scale 1
    t = torch.tensor([[1.0, 10.0]], dtype=torch.float64)
    np.testing.assert_allclose(n.encode(t).numpy(), [[1 / math.sqrt(14 / 3), -10 / math.sqrt(200 / 3)]])
    np.testing.assert_allclose(n.decode(n.encode(t)).numpy(), t.numpy())
    with pytest.raises(dataclasses.FrozenInstanceError):  # fitted once, saved with the run: never changed after
        n.mean = (0.0, 0.0)


def test_predictions_are_decoded_to_physical_units():
    """A model that outputs 0 (the normalised mean) predicts the training mean, in the target's units."""
    class Zero(torch.nn.Module):
        def forward(self, batch):
            return torch.zeros(batch.num_graphs, 1, dtype=torch.float32)

    config = TrainConfig(**SMALL)
    graphs, _ = train_module.load_graphs(config, "val", 5)
    pred = train_module._predict(Zero(), graphs, config, Normalizer((1.5,), (0.25,)), torch.device("cpu"),
                                frames=False)  # frames=False: one row per structure (no gauge averaging here)
    np.testing.assert_allclose(pred, np.full((5, 1), 1.5))
    ones = type("One", (Zero,), {"forward": lambda self, b: torch.ones(b.num_graphs, 1)})()
    np.testing.assert_allclose(train_module._predict(ones, graphs, config, Normalizer((1.5,), (0.25,)),
                                                     torch.device("cpu"), frames=False), np.full((5, 1), 1.75))
    cls = config.replace(task="classification")  # classification: the logit itself, never decoded
    np.testing.assert_allclose(train_module._predict(ones, graphs, cls, Normalizer((1.5,), (0.25,)),
                                                     torch.device("cpu"), frames=False), np.ones((5, 1)))


# -- training: a real run learns ----------------------------------------------------------------------


def test_training_lowers_the_loss_and_beats_the_mean_predictor(tmp_path):
    config = TrainConfig(**{**SMALL, "batch_size": 8}, epochs=15, lr=5e-3, lr_schedule="cosine", limit_train=200,
                         limit_val=48, limit_test=64)
    result = train(config, tmp_path / "run")
    log = list(csv.DictReader((tmp_path / "run" / "log.csv").open()))
    losses = [float(r["train_loss"]) for r in log]
    assert len(losses) == 15 and losses[-1] < 0.5 * losses[0], losses  # optimizer.step() deleted: flat
    train_graphs, _ = train_module.load_graphs(config, "train", 200)
    test_graphs, _ = train_module.load_graphs(config, "test", 64)
    mean = np.mean([g.targets["heat_all"] for g in train_graphs])
    true = np.array([g.targets["heat_all"] for g in test_graphs])
    mean_mae = float(np.mean(np.abs(true - mean)))
    assert result["test_mae"] < 0.85 * mean_mae  # measured: 0.46 against 0.60 eV, (result["test_mae"], mean_mae)
    # the reported MAE is the MAE of the written predictions against the dataset's own values (eV, not
    # normalised units, not MSE)
    rows = list(csv.DictReader((tmp_path / "run" / "predictions.csv").open()))
    written_true = np.array([float(r["heat_all_true"]) for r in rows])
    written_pred = np.array([float(r["heat_all_pred"]) for r in rows])
    np.testing.assert_allclose(written_true, true, rtol=1e-5)
    assert result["test_mae"] == pytest.approx(float(np.mean(np.abs(written_pred - written_true))), rel=1e-4)
    assert abs(np.mean(written_pred) - np.mean(true)) < 0.5 * np.std(true)  # on the targets' scale
    assert result["test_rmse_heat_all"] >= result["test_mae"]


def _scripted(monkeypatch, scores):
    """Replace the validation score of each epoch by the next of ``scores`` (the metrics stay real)."""
    seq = iter(scores)
    monkeypatch.setattr(train_module, "_score", lambda metrics, config: next(seq))


def _tiny(**changes):
    return TrainConfig(**{**SMALL, "limit_train": 32, "limit_val": 16, "limit_test": 16, **changes})


def test_the_best_epoch_not_the_last_is_kept(tmp_path, monkeypatch):
    """The epoch of the lowest validation score; a later epoch that only ties it does not replace it."""
    _scripted(monkeypatch, [3.0, 1.0, 2.0, 1.0, 5.0])
    result = train(_tiny(epochs=5), tmp_path / "run")
    assert result["best_epoch"] == 2 and result["epochs_run"] == 5
    assert load_checkpoint(tmp_path / "run" / "best.pt")["epoch"] == 2
    assert load_checkpoint(tmp_path / "run" / "last.pt")["epoch"] == 5
    evaluated = train_module.evaluate_checkpoint(tmp_path / "run" / "best.pt", split="val", limit=16)
    assert evaluated["mae"] == pytest.approx(result["val_mae"])  # metrics.json describes best.pt


def test_a_nan_score_never_becomes_the_best(tmp_path, monkeypatch):
    _scripted(monkeypatch, [2.0, float("nan"), 1.0])
    assert train(_tiny(epochs=3), tmp_path / "run")["best_epoch"] == 3
    _scripted(monkeypatch, [2.0, float("nan")])
    assert train(_tiny(epochs=2), tmp_path / "run2")["best_epoch"] == 1


def test_early_stopping_after_the_given_number_of_epochs_without_improvement(tmp_path, monkeypatch):
    _scripted(monkeypatch, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    result = train(_tiny(epochs=6, early_stopping=2), tmp_path / "run")
    assert (result["epochs_run"], result["best_epoch"]) == (3, 1)  # epoch 4 would be the 3rd without improvement


def test_plateau_schedule_halves_the_lr_and_stops_at_min_lr(tmp_path, monkeypatch):
    _scripted(monkeypatch, [1.0] + [2.0] * 9)
    result = train(_tiny(epochs=10, lr=1e-3, lr_patience=0, lr_factor=0.5, min_lr=2.5e-4), tmp_path / "run")
    lrs = [float(r["lr"]) for r in csv.DictReader((tmp_path / "run" / "log.csv").open())]
    assert lrs == pytest.approx([1e-3, 5e-4, 2.5e-4])  # then lr <= min_lr: no 4th epoch
    assert result["epochs_run"] == 3 and result["best_epoch"] == 1


# -- the graph cache and a real build ---------------------------------------------------------------------


def _small_csv(data_dir, path, count=6, change=None):
    import gzip

    csv.field_size_limit(1 << 30)
    with gzip.open(data_dir / "perov_5" / "val.csv.gz", "rt") as fh:
        rows = [row for _, row in zip(range(count), csv.DictReader(fh))]
    if change:
        change(rows)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["material_id", "cif", "heat_all"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_the_cache_is_rebuilt_when_input_settings_or_format_change(tmp_path, data_dir, monkeypatch):
    from ecn.data import GraphSettings, load, load_dataset
    from ecn.data import build as build_module

    builds = []
    real = load.build_graphs
    monkeypatch.setattr(load, "build_graphs", lambda *a, **k: builds.append(1) or real(*a, **k))
    cache = tmp_path / "cache"
    path = _small_csv(data_dir, tmp_path / "d.csv")
    get = lambda **k: load_dataset(path, target_names=["heat_all"], cache=cache, workers=1, progress=False, **k)
    first, report = get()
    assert len(builds) == 1 and len(first) == report.built >= 4
    again, _ = get()
    assert len(builds) == 1 and [g.id for g in again] == [g.id for g in first]  # a hit: no build
    # the same name, the targets changed: the bytes differ, so it is rebuilt and the new values are read
    def edit(rows):
        for row in rows:
            row["heat_all"] = "9.5"

    _small_csv(data_dir, path, change=edit)
    changed, _ = get()
    assert len(builds) == 2 and {g.targets["heat_all"] for g in changed} == {9.5} != {first[0].targets["heat_all"]}
    get()
    assert len(builds) == 2
    other = get(settings=GraphSettings(supercell=(1, 1, 1)))[0]  # a graph setting
    assert len(builds) == 3 and other[0].supercell == (1, 1, 1) and changed[0].supercell == (2, 2, 2)
    monkeypatch.setattr(build_module, "CACHE_FORMAT_VERSION", build_module.CACHE_FORMAT_VERSION + 1)
    get()
    assert len(builds) == 4  # the code's format version


def test_cache_keys_depend_on_every_part():
    from ecn.data import GraphSettings
    from ecn.data.build import BuildLimits, GraphCache

    base = dict(input_sha256="0" * 64, settings=GraphSettings(), target_names=["e"])
    key = GraphCache.key(**base)
    assert GraphCache.key(**base) == key
    for change in (dict(input_sha256="1" + "0" * 63), dict(settings=GraphSettings(cutoff=5.0)),
                   dict(target_names=["f"]), dict(limits=BuildLimits(max_sites=10)), dict(limit=3),
                   dict(id_column="name")):
        assert GraphCache.key(**{**base, **change}) != key, change


def test_a_real_build_has_no_internal_errors_and_parallel_equals_serial(data_dir):
    from ecn.data.build import BuildLimits, build_graphs

    rows = [{"id": i, "cif": c} for i, c in read_cifs(data_dir / "perov_5" / "val.csv.gz", 40)]
    rows += [{"id": i, "cif": c} for i, c in read_cifs(data_dir / "carbon_24" / "val.csv.gz", 12)]
    limits = BuildLimits(require_connected=False)  # as for the named datasets: every row a graph
    serial, report = build_graphs(rows, limits=limits, workers=1, progress=False)
    internal = [s for s in report.skipped if s[1].startswith("error:")]
    assert internal == [] and report.rows == len(rows)
    assert report.built == len(rows) and len(serial) == report.built  # not an empty build
    parallel, report2 = build_graphs(rows, limits=limits, workers=2, progress=False, chunk=16)
    assert report2.skipped == report.skipped and len(parallel) == len(serial)
    for a, b in zip(serial, parallel):
        assert a.id == b.id
        np.testing.assert_array_equal(a.edge_index, b.edge_index)
        np.testing.assert_array_equal(a.edge_length, b.edge_length)


def test_doctests_of_both_packages_are_collected():
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    opts = config["tool"]["pytest"]["ini_options"]
    assert {"crystalgroups", "ecn"} <= set(opts["testpaths"]) and "--doctest-modules" in opts["addopts"]
    assert "-ra" in opts["addopts"].split()  # every skip is listed with its reason


# -- the loss and the feature settings of a run ----------------------------------------------------------


def test_losses_by_their_values():
    out = torch.tensor([[0.0], [3.0], [1.0]])
    y = torch.tensor([[0.5], [1.0], [float("nan")]])  # the unlabelled entry is left out
    assert float(train_module._loss(out, y, "regression")) == pytest.approx((0.25 + 4.0) / 2)
    assert float(train_module._loss(out, y, "regression", "mse")) == pytest.approx((0.25 + 4.0) / 2)
    assert float(train_module._loss(out, y, "regression", "l1")) == pytest.approx((0.5 + 2.0) / 2)
    # huber, delta 1: quadratic 0.5 d^2 below 1, linear |d| - 0.5 above
    assert float(train_module._loss(out, y, "regression", "huber")) == pytest.approx((0.5 * 0.25 + 1.5) / 2)
    with pytest.raises(ValueError, match="expected loss 'mse', 'l1' or 'huber', got 'mae'"):
        TrainConfig(loss="mae")


def test_a_run_takes_its_element_and_gaussian_settings(tmp_path):
    config = TrainConfig(**SMALL, epochs=1, limit_train=16, limit_val=8, limit_test=8, loss="l1",
                         element_features="onehot+properties", gaussians=41, gaussian_max=8.0, gaussian_width=0.2)
    train(config, tmp_path / "run")
    payload = torch.load(tmp_path / "run" / "best.pt", weights_only=False)
    assert payload["model_config"]["edge_in"] == 41
    assert payload["model_config"]["node_in"] == 103 + 26 + 11 + 1  # one-hot, period+group, properties, GGA+U
    assert payload["config"]["loss"] == "l1" and payload["config"]["gaussian_width"] == 0.2
    # the same settings make the batches of evaluation: the checkpoint evaluates without a shape error
    metrics = train_module.evaluate_checkpoint(tmp_path / "run" / "best.pt", data="perov5", split="val", limit=8)
    assert math.isfinite(metrics["mae"])


# -- labels and figures ---------------------------------------------------------------------------------


def test_classification_labels_per_site_and_missing_are_checked_value_by_value():
    """Labels of 0 and 1 pass whether one per structure, one per site or absent (NaN or no value); any other
    value is refused with the structure's id and the whole value."""
    from types import SimpleNamespace

    cls = TrainConfig(task="classification", targets=("y",), data="labels.csv")
    graphs = [SimpleNamespace(id="one", targets={"y": 1.0}),
              SimpleNamespace(id="sites", targets={"y": np.array([0.0, 1.0, np.nan])}),
              SimpleNamespace(id="none", targets={})]
    train_module._check_labels(graphs, cls, "training")
    bad = SimpleNamespace(id="bad sites", targets={"y": np.array([0.0, 2.0])})
    with pytest.raises(ValueError, match=r"got y = array\(\[0\., 2\.\]\) for 'bad sites' in the training data"):
        train_module._check_labels(graphs + [bad], cls, "training")
    train_module._check_labels([bad], TrainConfig(), "training")  # regression: any number


def test_the_figures_draw_the_roc_curve_and_an_equal_axes_parity_plot(tmp_path, monkeypatch):
    """The ROC curve through its hand-computed points, and a parity plot of the predictions against the targets
    with the diagonal and equal limits on both axes; the figures themselves are captured as they are saved."""
    from types import SimpleNamespace

    from matplotlib.figure import Figure

    saved, dpi = {}, {}

    def savefig(fig, path, **kw):
        saved[Path(path).name], dpi[Path(path).name] = fig, kw.get("dpi")

    monkeypatch.setattr(Figure, "savefig", savefig)
    score, label = np.array([[0.9], [0.8], [0.3], [0.1]]), np.array([[1.0], [0.0], [1.0], [0.0]])
    train_module._plot(tmp_path, score, label, SimpleNamespace(task="classification", targets=["y"], data="d",
                                                                model="cgcnn"))
    curve = saved["roc.png"].axes[0].lines[0].get_xydata()
    np.testing.assert_allclose(curve, [[0, 0], [0, 0.5], [0.5, 0.5], [0.5, 1], [1, 1]])
    single = np.array([[1.0], [0.0], [1.0]])  # a single negative: the curve still reaches a false positive rate of 1
    train_module._plot(tmp_path, score[:3], single, SimpleNamespace(task="classification", targets=["y"], data="d",
                                                                     model="cgcnn"))
    np.testing.assert_allclose(saved["roc.png"].axes[0].lines[0].get_xydata(), [[0, 0], [0, 0.5], [1, 0.5], [1, 1]])
    one = np.array([[0.0], [1.0], [0.0]])  # a single positive: the curve still reaches a true positive rate of 1
    train_module._plot(tmp_path, score[:3], one, SimpleNamespace(task="classification", targets=["y"], data="d",
                                                                  model="cgcnn"))
    np.testing.assert_allclose(saved["roc.png"].axes[0].lines[0].get_xydata(), [[0, 0], [0.5, 0], [0.5, 1], [1, 1]])
    two = np.hstack([score, score[::-1]])  # two targets: the figure is the first one's
    train_module._plot(tmp_path, two, np.hstack([label, 1 - label]), SimpleNamespace(
        task="classification", targets=["y", "z"], data="d", model="cgcnn"))
    np.testing.assert_allclose(saved["roc.png"].axes[0].lines[0].get_xydata(), curve)
    none = np.zeros((4, 1))  # no positive: a true positive rate of 0 throughout, not 0/0 (and no negative below)
    train_module._plot(tmp_path, score, none, SimpleNamespace(task="classification", targets=["y"], data="d",
                                                               model="cgcnn"))
    np.testing.assert_allclose(saved["roc.png"].axes[0].lines[0].get_xydata(),
                               [[0, 0], [0.25, 0], [0.5, 0], [0.75, 0], [1, 0]])
    train_module._plot(tmp_path, score, 1 - none, SimpleNamespace(task="classification", targets=["y"], data="d",
                                                                   model="cgcnn"))  # no negative: rate 0 of those
    np.testing.assert_allclose(saved["roc.png"].axes[0].lines[0].get_xydata(),
                               [[0, 0], [0, 0.25], [0, 0.5], [0, 0.75], [0, 1]])
    assert saved["roc.png"].axes[0].get_title() == "ROC, y (test)"
    chance = saved["roc.png"].axes[0].lines[1]
    np.testing.assert_allclose(chance.get_xydata(), [[0, 0], [1, 1]])
    assert chance.get_linewidth() > 0 and chance.get_linestyle() == ":"  # drawn, dotted
    pred, true = np.array([[1.0], [2.5], [9.0]]), np.array([[1.5], [2.0], [np.nan]])
    train_module._plot(tmp_path, pred, true, SimpleNamespace(task="regression", targets=["heat_all"],
                                                              data="perov_5", model="ecn-s"))
    ax = saved["parity.png"].axes[0]
    np.testing.assert_allclose(ax.collections[0].get_offsets(), [[1.5, 1.0], [2.0, 2.5]])  # NaN row dropped
    np.testing.assert_allclose(ax.lines[0].get_xydata(), [[1.0, 1.0], [2.5, 2.5]])  # the diagonal
    assert ax.get_xlim() == ax.get_ylim() == (1.0, 2.5) and ax.get_aspect() == 1.0  # equal axes
    assert ax.get_title() == "ecn-s: test MAE 0.5000 eV per 5-atom cell"
    train_module._plot(tmp_path, np.array([[2.0], [4.0]]), np.array([[1.0], [1.0]]), SimpleNamespace(
        task="regression", targets=["heat_all"], data="perov_5", model="ecn-s"))
    assert saved["parity.png"].axes[0].get_title() == "ecn-s: test MAE 2.0000 eV per 5-atom cell"  # (1 + 3) / 2
    second = np.array([[6.5], [np.nan], [7.0]])  # missing in another row than the first target
    train_module._plot(tmp_path, np.hstack([pred, pred + 1]), np.hstack([true, second]), SimpleNamespace(
        task="regression", targets=["heat_all", "x"], data="perov_5", model="ecn-s"))
    ax = saved["parity.png"].axes[0]  # two targets: the figure is the first one's
    assert ax.get_title() == "ecn-s: test MAE 0.5000 eV per 5-atom cell" and ax.get_xlim() == (1.0, 2.5)
    np.testing.assert_allclose(ax.collections[0].get_offsets(), [[1.5, 1.0], [2.0, 2.5]])  # the first's points
    assert ax.get_xlabel() == "heat_all, true (eV per 5-atom cell)"
    for name, fig in saved.items():  # 462 x 440 pixels
        assert tuple(fig.get_size_inches()) == (4.2, 4.0) and dpi[name] == 110, name


def _record_frames(monkeypatch) -> list:
    """The (group, basis) of every frame training draws, recorded as the real draw goes on."""
    calls = []
    real = train_module._one_frame

    def spy(graph, generator, group=None, basis=False):
        calls.append((group, basis))
        return real(graph, generator, group, basis)

    monkeypatch.setattr(train_module, "_one_frame", spy)
    return calls


def test_only_runs_in_the_tree_gauge_draw_a_frame_of_each_structure(tmp_path, monkeypatch):
    """Training draws one of each structure's tied gauges (for P-1 also its equally good bases) only in the tree
    gauge; a run on the images as the files give them sees each structure as written."""
    calls = _record_frames(monkeypatch)
    for gauge, drawn in (("as_given", (None, False)), ("tree", ("P-1", False))):
        calls.clear()
        train(_tiny(model="ecn-p1", gauge=gauge, epochs=1, limit_train=8, limit_val=8, limit_test=8), tmp_path / gauge)
        assert set(calls) == {drawn}
    for gauge, drawn in (("as_given", (None, False)), ("tree", ("P-1", True))):  # the one-hot labels cells
        calls.clear()
        train(_tiny(model="ecn-p1", gauge=gauge, cell_onehot=True, epochs=1, limit_train=8, limit_val=8,
                    limit_test=8), tmp_path / f"{gauge}-onehot")
        assert set(calls) == {drawn}


def test_a_training_batch_holds_the_one_drawn_gauge_of_each_structure(tmp_path, monkeypatch):
    """ECN-P-1 in the tree gauge: each training step sees the one frame drawn for each structure (a gauge and,
    for P-1, one of the lattice's equally good bases), not the average over all of them that evaluation takes;
    some of the structures here have several such frames."""
    made = []
    _spy_training_batches(monkeypatch, lambda graphs, batch: made.append((graphs, batch)))
    config = _tiny(model="ecn-p1", gauge="tree", epochs=1, limit_train=8, limit_val=8, limit_test=8)
    train(config, tmp_path / "run")
    graphs = train_module.load_graphs(config, "train", 8)[0]
    assert any(len(g.frame_choices("P-1")) > 1 for g in graphs)
    assert made and all(b.frame_of is None and b.num_graphs == len(drawn) for drawn, b in made)


def test_settings_read_from_a_yaml_file_act_as_the_same_settings_written_in_python(tmp_path, monkeypatch):
    """Strings parsed from a config file are equal to Python's literals but not the same objects: the plateau
    schedule, the tree gauge's frames, the summed readout and the loss kinds must apply to them all the same."""
    from ecn.config import load_config

    (tmp_path / "run.yaml").write_text("model: ecn-p1\nlr_schedule: plateau\ngauge: tree\nreadout: sum\n"
                                       "task: regression\n")
    config = load_config(tmp_path / "run.yaml")
    calls = _record_frames(monkeypatch)
    _scripted(monkeypatch, [1.0] + [2.0] * 9)
    changes = {**SMALL, "limit_train": 8, "limit_val": 8, "limit_test": 8}
    train(config.replace(**changes, epochs=10, lr=1e-3, lr_patience=0, lr_factor=0.5, min_lr=2.5e-4), tmp_path / "r")
    lrs = [float(r["lr"]) for r in csv.DictReader((tmp_path / "r" / "log.csv").open())]
    assert lrs == pytest.approx([1e-3, 5e-4, 2.5e-4]) and set(calls) == {("P-1", False)}
    payload = load_checkpoint(tmp_path / "r" / "best.pt")  # a summed readout: an extensive target, not shifted
    assert tuple(payload["model_config"]["extensive"]) == (True,) and payload["normalizer"]["mean"] == [0.0]
    assert payload["normalizer"]["std"] != [1.0]  # a regression target is scaled
    rows = list(csv.reader((tmp_path / "r" / "predictions.csv").open()))  # a line per structure, not per site
    assert rows[0] == ["id", "heat_all_true", "heat_all_pred", "row"]
    assert [int(r[-1]) for r in rows[1:]] == list(range(1, 9))  # each structure's place in the split, from 1
    out, y = torch.tensor([[0.5], [3.0]]), torch.tensor([[0.0], [1.0]])  # errors 0.5 and 2 (see the loss test)
    for kind, value in (("l1", (0.5 + 2.0) / 2), ("huber", (0.5 * 0.25 + 1.5) / 2)):
        (tmp_path / f"{kind}.yaml").write_text(f"loss: {kind}\n")
        loss = load_config(tmp_path / f"{kind}.yaml").loss
        assert float(train_module._loss(out, y, "regression", loss)) == pytest.approx(value), kind
    (tmp_path / "cls.yaml").write_text("task: classification\n")  # cross-entropy on logits, not a regression loss
    task = load_config(tmp_path / "cls.yaml").task
    expected = -(np.log(1 - 1 / (1 + np.exp(-0.5))) + np.log(1 / (1 + np.exp(-3.0)))) / 2
    assert float(train_module._loss(out, y, task)) == pytest.approx(expected)


def _spy_training_batches(monkeypatch, record) -> None:
    """Call ``record(graphs, batch)`` for every training batch as the real one is made (training is the
    collater that merges equal edges; validation and evaluation batches are not recorded)."""
    real = train_module.collater

    def spying(config, frames=True, compress=False):
        make = real(config, frames, compress)
        if not compress:
            return make

        def made(graphs):
            batch = make(graphs)
            record(graphs, batch)
            return batch

        return made

    monkeypatch.setattr(train_module, "collater", spying)


def _record_training_batches(monkeypatch) -> list:
    """The ids of every training batch, in order."""
    batches = []
    _spy_training_batches(monkeypatch, lambda graphs, batch: batches.append([g.id for g in graphs]))
    return batches


def test_each_seed_shuffles_the_training_set_in_its_own_order(tmp_path, monkeypatch):
    """The order of the training structures in an epoch depends on the seed and the epoch: two seeds see the
    same structures in different orders, in each of two epochs, and no two (seed, epoch) share one."""
    batches = _record_training_batches(monkeypatch)
    orders = {}
    for seed in (0, 1):
        batches.clear()
        train(_tiny(seed=seed, epochs=2, limit_train=16, limit_val=8, limit_test=8, batch_size=4), tmp_path / str(seed))
        orders[seed] = [i for batch in batches for i in batch]
    epochs = [tuple(orders[seed][16 * e:16 * e + 16]) for seed in (0, 1) for e in (0, 1)]  # (seed, epoch) 01 02 11 12
    assert all(sorted(order) == sorted(epochs[0]) for order in epochs) and len(orders[0]) == 32
    assert len(set(epochs)) == 4  # each seed and epoch its own order: no seed repeats itself, nor another's epoch


def test_a_run_on_the_cpu_sets_its_threads(tmp_path):
    """``deterministic`` runs on one thread, ``threads=2`` on two, whatever torch had before."""
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        train(_tiny(epochs=1, limit_train=8, limit_val=8, limit_test=8), tmp_path / "one")
        assert torch.get_num_threads() == 1
        train(_tiny(epochs=1, limit_train=8, limit_val=8, limit_test=8, deterministic=False, threads=2),
              tmp_path / "two")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_the_device_of_a_cuda_run_is_named_and_placed_by_local_rank(monkeypatch):
    """``--device cuda`` without a GPU is a one-line error; with one (CUDA's answer stood in for, so this runs
    anywhere), one process takes the default GPU and each of several processes its own by local rank."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="expected a CUDA device for --device cuda, got none on this machine"):
        train_module._device(TrainConfig(device="cuda"))
    assert train_module._device(TrainConfig()) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    for env, expected in (({}, torch.device("cuda")),
                          ({"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0"}, torch.device("cuda", 0)),
                          ({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"}, torch.device("cuda", 1)),
                          ({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"}, torch.device("cuda", 1))):
        for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assert train_module._device(TrainConfig(device="cuda")) == expected, env


def _record_losses(monkeypatch) -> list:
    """(value, labelled rows) of every training loss, recorded as the real loss is computed."""
    seen = []
    real = train_module._loss

    def recording(out, y, task, kind="mse"):
        loss = real(out, y, task, kind)
        seen.append((float(loss.detach()), len(y)))
        return loss

    monkeypatch.setattr(train_module, "_loss", recording)
    return seen


def test_a_cosine_schedule_from_lr_to_the_same_min_lr_is_a_constant_rate(tmp_path, monkeypatch):
    """lr = min_lr under the cosine schedule: every epoch runs, at that rate (the plateau schedule's stop at
    min_lr does not apply to it). One training structure is enough for a run; each epoch's train_loss is
    then the loss of its one step."""
    seen = _record_losses(monkeypatch)
    train(_tiny(epochs=2, limit_train=1, limit_val=8, limit_test=8, lr_schedule="cosine", lr=1e-3, min_lr=1e-3),
          tmp_path / "r")
    rows = list(csv.DictReader((tmp_path / "r" / "log.csv").open()))
    assert [float(r["lr"]) for r in rows] == [1e-3, 1e-3]
    assert len(seen) == 2 and [float(r["train_loss"]) for r in rows] == pytest.approx([v for v, _ in seen], rel=1e-12)


def test_the_time_limit_counts_minutes_and_no_epoch_starts_past_it(tmp_path, monkeypatch):
    """time_limit=1 is 60 s of training: with a clock that reads 59.5 s after the first epoch's one step and
    60.5 s after the second's, epoch 2 starts and epoch 3 does not (of 4)."""
    seen = _record_losses(monkeypatch)
    seconds = {0: 0.0, 1: 59.5, 2: 60.5}

    class StepClock:  # the training's clock, as a function of the steps taken so far
        @staticmethod
        def perf_counter():
            return seconds.get(len(seen), 1e6)

    monkeypatch.setattr(train_module, "time", StepClock)
    result = train(_tiny(epochs=4, limit_train=1, limit_val=8, limit_test=8, time_limit=1), tmp_path / "r")
    assert len(seen) == 2 and result["epochs_run"] == 2
    assert result["train_seconds"] == 60.5


def test_ctrl_c_names_the_epoch_in_progress_or_says_that_none_had_started(tmp_path, monkeypatch):
    """Ctrl-C in epoch 2 of a fresh run names epoch 2 and the epoch last.pt holds (1); Ctrl-C while a resumed
    run builds its model, before any epoch, says that no epoch had started; Ctrl-C in the first epoch of a fresh
    run says that nothing was kept, and the folder it created is gone."""
    seen = _record_losses(monkeypatch)
    real = train_module._loss
    interrupt_at = [0]

    def interrupting(*args):  # one structure: one step an epoch
        if len(seen) == interrupt_at[0]:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(train_module, "_loss", interrupting)
    with pytest.raises(train_module.RunInterrupted, match=r"^interrupted before the first epoch of .* finished; "
                                                          r"nothing was kept"):
        train(_tiny(epochs=3, limit_train=1, limit_val=8, limit_test=8), tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()
    interrupt_at[0] = 1
    with pytest.raises(train_module.RunInterrupted, match=r"^interrupted in epoch 2; .*last\.pt holds epoch 1: "
                                                          r"continue with ecn train --resume "):
        train(_tiny(epochs=3, limit_train=1, limit_val=8, limit_test=8), tmp_path / "run")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "build_model", interrupted)
    with pytest.raises(train_module.RunInterrupted, match=r"^interrupted before its next epoch started; "):
        train(None, tmp_path / "run", resume=True)


def test_a_diverged_validation_names_its_first_non_finite_metric_with_its_value(tmp_path, monkeypatch):
    """Two targets, validation predictions NaN for the first and infinite for the second: the run stops
    with the first bad metric, mae_heat_all, and its own value, NaN (the overall MAE is infinite); with
    1e200 for the first and NaN for the second, the first bad metric is rmse_heat_all, infinite."""

    def broken(model, graphs, config, normalizer, device, batch_size=256, frames=True):
        return np.tile([np.nan, np.inf], (len(graphs), 1))

    monkeypatch.setattr(train_module, "_predict", broken)
    with pytest.raises(train_module.RunFailed, match="got a validation mae_heat_all of nan in epoch 1"):
        train(_tiny(epochs=1, limit_train=8, limit_val=8, limit_test=8, targets=("heat_all", "dir_gap")),
              tmp_path / "r")

    def huge(model, graphs, config, normalizer, device, batch_size=256, frames=True):  # an RMSE overflows first
        return np.tile([1e200, np.nan], (len(graphs), 1))

    monkeypatch.setattr(train_module, "_predict", huge)
    with pytest.raises(train_module.RunFailed, match="got a validation rmse_heat_all of inf in epoch 1"), \
            np.errstate(over="ignore"):
        train(_tiny(epochs=1, limit_train=8, limit_val=8, limit_test=8, targets=("heat_all", "dir_gap")),
              tmp_path / "r2")  # its MAE, 1e200, is finite; the next bad metric, mae_dir_gap, is NaN


def test_the_logged_training_loss_is_the_mean_over_structures_of_the_epoch(tmp_path, monkeypatch):
    """Ten structures in batches of 4, 4 and 2: the epoch's train_loss weighs each batch's loss by its size."""
    seen = _record_losses(monkeypatch)
    out = tmp_path / "new" / "folders" / "r"  # a run folder whose parents do not exist yet: made with it
    train(_tiny(epochs=1, limit_train=10, limit_val=4, limit_test=4, batch_size=4), out)
    assert [n for _, n in seen] == [4, 4, 2]
    assert next(csv.reader((out / "predictions.csv").open())) == ["id", "heat_all_true", "heat_all_pred", "row"]
    logged = float(next(csv.DictReader((out / "log.csv").open()))["train_loss"])
    assert logged == pytest.approx(sum(v * n for v, n in seen) / 10, rel=1e-12)


def test_checkpoint_and_limit_errors_of_evaluation_and_loading(tmp_path):
    """A payload without a model's or a run's settings is a CheckpointError naming the missing key; a limit
    that is not a plain integer (a bool, text) or is negative is a ValueError, before any file is read (by the
    evaluation and by ``load_graphs``)."""
    from ecn.checkpoint import CheckpointError

    with pytest.raises(CheckpointError, match="got one that does not fit: 'model_config'"):
        train_module.model_from_checkpoint({"model": {}})
    with pytest.raises(CheckpointError, match="got one that does not fit: .*'colour'"):  # an unknown setting
        train_module.model_from_checkpoint({"model_config": {"colour": 5}, "model": {}})
    with pytest.raises(CheckpointError, match="with an ecn training config, got one without: 'config'"):
        train_module._config_of({"model": {}})  # no training settings at all
    with pytest.raises(CheckpointError, match="with an ecn training config, got one without: .*'colour'"):
        train_module._config_of({"config": {"colour": 5, "targets": ["heat_all"]}})  # an unknown setting
    for limit in (True, "3", -1):
        with pytest.raises(ValueError, match=f"expected --limit as an integer >= 0 .*, got {limit!r}"):
            train_module.evaluate_checkpoint(tmp_path / "none.pt", limit=limit)
        with pytest.raises(ValueError, match=f"expected a limit as an integer >= 0 .*, got {limit!r}"):
            train_module.load_graphs(TrainConfig(), "test", limit)


def test_evaluation_reads_every_tied_gauge_only_in_the_tree_gauge_and_nothing_from_no_structures():
    """The evaluation's batches average a supercell model over a structure's tied gauges in the tree gauge;
    a run on the images as the files give them reads each structure once, as written. No structures give
    an empty array of predictions, one column per target."""
    tree, given = TrainConfig(model="ecn-s"), TrainConfig(model="ecn-s", gauge="as_given")
    assert train_module.collater(tree).frames and not train_module.collater(given).frames
    empty = train_module._predict(torch.nn.Identity(), [], given.replace(targets=("heat_all", "dir_gap")),
                                  Normalizer((0.0, 0.0), (1.0, 1.0)), torch.device("cpu"))
    assert empty.shape == (0, 2)


def test_a_checkpoint_from_before_the_gauge_settings_reads_as_trained_on_the_files_as_given():
    """A config without ``gauge`` and ``neighbor_tol`` (checkpoints of version 0.1) is the images as the files
    give them and Qhull's own faces (tolerance 0), as those runs were trained."""
    old = {k: v for k, v in TrainConfig().to_dict().items() if k not in ("gauge", "neighbor_tol")}
    config = train_module._config_of({"config": old})
    assert (config.gauge, config.neighbor_tol) == ("as_given", 0.0)
    assert train_module._config_of({"config": TrainConfig().to_dict()}) == TrainConfig()  # given: kept


def test_a_batch_of_one_structure_trains_one_structure_per_step(tmp_path, monkeypatch):
    """batch_size=1: every optimiser step sees one structure (per process), so an epoch of 6 is 6 steps."""
    batches = _record_training_batches(monkeypatch)
    train(_tiny(batch_size=1, epochs=1, limit_train=6, limit_val=4, limit_test=4), tmp_path / "r")
    assert [len(batch) for batch in batches] == [1] * 6


def test_a_frame_is_drawn_from_all_tied_gauges_and_a_graph_with_one_is_used_as_it_is(data_dir):
    """``_one_frame`` for P-1: a crystal with two tied gauges gets either of them (each about half of the draws);
    one with a single gauge is passed on itself, never rebuilt; the same for the tree gauges of ECN-S."""
    from ecn.data import crystal_from_cif, crystal_graph

    two, one, trees = (crystal_graph(crystal_from_cif(cif, id=i)) for i, cif in
                       read_cifs(Path(data_dir) / "carbon_24" / "test.csv.gz", limit=3, every=13))
    assert len(two.frame_choices("P-1")) == 2 and len(one.frame_choices("P-1")) == 1

    def written(g):  # the crystal as this gauge writes it
        return np.asarray(g.lattice).tobytes() + g.frac.tobytes() + g.unit_edge_image.tobytes()

    generator = torch.Generator().manual_seed(0)
    drawn = [written(train_module._one_frame(two, generator, "P-1")) for _ in range(40)]
    assert len({written(two.frame(*choice)) for choice in two.frame_choices("P-1")} | set(drawn)) == 2
    assert len(set(drawn)) == 2
    assert 10 <= drawn.count(drawn[0]) <= 30
    assert all(train_module._one_frame(one, generator, "P-1") is one for _ in range(5))
    # the ECN-S gauge draw (tree gauges only): either of a crystal's two, a crystal with one as it is
    assert trees.num_frames == 2 and one.num_frames == 1
    assert len({written(train_module._one_frame(trees, generator, "S")) for _ in range(20)}) == 2
    assert train_module._one_frame(one, generator, "S") is one


def test_a_run_shifts_an_intensive_target_by_its_mean_and_an_extensive_one_not_at_all(tmp_path):
    """The normaliser a run fits (saved in its checkpoint) and its model's readout, for the mean readout, the
    sum readout, and a target named extensive."""
    for name, changes, extensive in [("mean", {}, False), ("sum", {"readout": "sum"}, True),
                                     ("named", {"extensive": ("heat_all",)}, True)]:
        config = _tiny(epochs=1, **changes)
        train(config, tmp_path / name)
        payload = load_checkpoint(tmp_path / name / "best.pt")
        graphs, _ = train_module.load_graphs(config, "train", config.limit_train)
        y = np.array([g.targets["heat_all"] for g in graphs])
        mean, std = payload["normalizer"]["mean"][0], payload["normalizer"]["std"][0]
        if extensive:  # scaled by the root mean square, not shifted
            assert (mean, std) == (0.0, pytest.approx(math.sqrt(np.mean(y**2)))), name
        else:
            assert (mean, std) == (pytest.approx(np.mean(y)), pytest.approx(np.std(y))), name
        assert tuple(payload["model_config"]["extensive"]) == (extensive,), name
    train(_tiny(epochs=1, limit_train=8, limit_val=8, limit_test=8, normalize=False), tmp_path / "raw")
    assert load_checkpoint(tmp_path / "raw" / "best.pt")["normalizer"] == {"mean": [0.0], "std": [1.0]}  # as given


def test_a_supercell_of_nine_numbers_is_read_row_by_row():
    from ecn.data import GraphSettings

    rows = ((1, 1, 0), (-1, 1, 0), (0, 0, 2))
    config = TrainConfig(model="ecn-s", supercell=tuple(n for row in rows for n in row))
    assert train_module.graph_settings(config).supercell == GraphSettings(supercell=rows).supercell
    other = ((1, 1, 0), (0, 1, 1), (0, 0, 2))  # the same numbers read another way: another supercell
    assert GraphSettings(supercell=rows).supercell != GraphSettings(supercell=other).supercell
    three = train_module.graph_settings(TrainConfig(model="ecn-s", supercell=(3, 1, 2)))  # a diagonal one
    assert three.supercell == GraphSettings(supercell=(3, 1, 2)).supercell


def test_per_site_predictions_name_each_site_and_element_in_the_order_of_the_file(tmp_path, data_dir):
    """``predictions.csv`` of a per-site run (``readout: node`` in a config file): one line per site, numbered
    from 0 in each structure, with the element the file gives that site."""
    from ecn.data import crystal_from_cif, crystal_graph
    from ecn.data.radii import SYMBOLS

    rows = read_cifs(data_dir / "perov_5" / "val.csv.gz", limit=40)
    path = tmp_path / "sites.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["material_id", "cif", "z"])
        for mid, cif in rows:  # a per-site target: the atomic number of each site
            writer.writerow([mid, cif, json.dumps(crystal_graph(crystal_from_cif(cif)).numbers.tolist())])
    from ecn.config import load_config

    (tmp_path / "run.yaml").write_text("readout: node\n")  # read from a file: equal to "node", not the literal
    config = load_config(tmp_path / "run.yaml").replace(**SMALL, data=str(path), targets=("z",), epochs=1)
    train(config, tmp_path / "run")
    written = list(csv.DictReader((tmp_path / "run" / "predictions.csv").open()))
    by_id = dict(rows)
    ids = list(dict.fromkeys(r["id"] for r in written))
    assert len(ids) >= 2 and len(written) == 5 * len(ids)  # the test part of the seeded 80/10/10 split
    for mid in ids:
        lines = [r for r in written if r["id"] == mid]
        numbers = crystal_from_cif(by_id[mid]).numbers
        assert [int(r["site"]) for r in lines] == list(range(len(numbers)))
        assert [r["element"] for r in lines] == [SYMBOLS[int(z) - 1] for z in numbers]
        assert [float(r["z_true"]) for r in lines] == [float(z) for z in numbers]


def test_resuming_where_there_is_no_run_says_to_start_one(tmp_path):
    missing = r"got no .*last\.pt \(the folder does not exist\): start it with --out instead$"
    with pytest.raises(ValueError, match=missing):
        train(None, tmp_path / "nowhere", resume=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"got no .*last\.pt: start it with --out instead$"):
        train(None, tmp_path / "empty", resume=True)


def test_a_batch_without_a_labelled_target_has_a_zero_loss_with_a_gradient():
    out = torch.tensor([[0.5], [-1.0]], requires_grad=True)
    for task, kind in (("regression", "mse"), ("regression", "l1"), ("classification", "mse")):
        loss = train_module._loss(out, torch.full((2, 1), float("nan")), task, kind)
        loss.backward()
        assert loss.item() == 0.0 and out.grad.tolist() == [[0.0], [0.0]], (task, kind)


def test_the_validation_score_of_each_epoch_reads_one_gauge_per_structure(tmp_path):
    """Validation after each epoch runs each structure once, in its first gauge (cheap; the choice of the best
    epoch needs no more), while the final metrics take the mean over every gauge: the log's validation MAE of
    the best epoch is the one-gauge MAE of best.pt, which differs from its every-gauge MAE for ECN-P-1."""
    config = _tiny(model="ecn-p1", epochs=2)
    result = train(config, tmp_path / "run")
    payload = load_checkpoint(tmp_path / "run" / "best.pt")
    model = train_module.model_from_checkpoint(payload)
    normalizer = Normalizer.from_dict(payload["normalizer"])
    graphs, _ = train_module.load_graphs(config, "val", config.limit_val)
    true = np.array([g.targets["heat_all"] for g in graphs])
    mae = {frames: float(np.mean(np.abs(train_module._predict(model, graphs, config, normalizer,
                                                               torch.device("cpu"), frames=frames)[:, 0] - true)))
           for frames in (False, True)}
    assert mae[False] != pytest.approx(mae[True], rel=1e-6)  # the gauges of these structures disagree
    log = list(csv.DictReader((tmp_path / "run" / "log.csv").open()))
    assert float(log[result["best_epoch"] - 1]["val_mae"]) == pytest.approx(mae[False], rel=1e-6)
    assert result["val_mae"] == pytest.approx(mae[True], rel=1e-6)


def test_a_quiet_run_prints_its_data_reports_and_no_progress_bar(tmp_path, capsys, monkeypatch):
    """With no graph cache every split is built, and a quiet run still shows no progress bar for any of them
    (the test split, built at the end, included): its standard error is the data reports alone."""
    monkeypatch.setenv("ECN_GRAPH_CACHE", "off")
    capsys.readouterr()
    train(_tiny(epochs=1), tmp_path / "run")
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "\r" not in err and [line.split(":")[0] for line in lines if not line.startswith(" ")] == [
        "perov5 train", "perov5 val", "perov5 test"], err


def test_the_training_time_adds_up_across_resumes(tmp_path, monkeypatch):
    """``train_seconds`` counts the time of every start: a run resumed from a checkpoint that records a
    billion seconds of training reports at least that much, and less than that plus this process's time;
    one that records none (an older checkpoint) counts from zero."""
    config = _tiny(epochs=1)
    first = train(config, tmp_path / "run")
    assert 0 < first["train_seconds"]
    state = load_checkpoint(tmp_path / "run" / "last.pt")
    assert 0 < state["elapsed"] <= first["train_seconds"]  # the time until the epoch was saved
    save_checkpoint(tmp_path / "run" / "last.pt", {**state, "elapsed": 1e9})
    t0 = time.perf_counter()
    again = train(None, tmp_path / "run", resume=True)
    assert 1e9 <= again["train_seconds"] <= 1e9 + (time.perf_counter() - t0)

    class Stopped:  # a clock that does not move: the time of a resume is what its checkpoint records
        def __getattr__(self, name):
            return getattr(time, name)

        @staticmethod
        def perf_counter():
            return 1000.0

    save_checkpoint(tmp_path / "run" / "last.pt", {k: v for k, v in state.items() if k != "elapsed"})
    monkeypatch.setattr(train_module, "time", Stopped())
    assert train(None, tmp_path / "run", resume=True)["train_seconds"] == 0.0  # none recorded: from zero


def test_a_fresh_run_that_fails_while_writing_its_folder_removes_what_it_wrote(tmp_path, monkeypatch):
    """A write that fails after config.yaml and before data_report.csv (a full disk, say): the run's own error
    comes out, and the folder it created is gone, config.yaml with it."""

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(train_module, "_write_data_report", full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        train(_tiny(epochs=1), tmp_path / "run")
    assert not (tmp_path / "run").exists()
    (tmp_path / "mine").mkdir()  # a folder the run did not create stays, empty as it was
    with pytest.raises(OSError, match="No space left on device"):
        train(_tiny(epochs=1), tmp_path / "mine")
    assert (tmp_path / "mine").is_dir() and not any((tmp_path / "mine").iterdir())


def test_a_best_checkpoint_that_predicts_nan_gives_no_metrics(tmp_path, monkeypatch):
    """The final metrics are computed from best.pt over every gauge (the validation of each epoch reads one):
    where those predictions are not finite the run fails, naming best.pt, the split and the first structure,
    and writes no metrics.json."""
    real = train_module._predict

    def nan_over_every_gauge(model, graphs, config, normalizer, device, batch_size=256, frames=True):
        pred = real(model, graphs, config, normalizer, device, batch_size, frames)
        if frames:
            pred[1:] = np.nan
        return pred

    monkeypatch.setattr(train_module, "_predict", nan_over_every_gauge)
    config = _tiny(epochs=1)
    with pytest.raises(train_module.RunFailed) as info:
        train(config, tmp_path / "run")
    graphs, _ = train_module.load_graphs(config, "train", config.limit_train)
    best = tmp_path / "run" / "best.pt"
    assert str(info.value).startswith(f"expected finite predictions of the best checkpoint {best} on the train "
                                      f"split, got NaN or infinity (first for {graphs[1].id!r})")
    assert not (tmp_path / "run" / "metrics.json").exists() and (tmp_path / "run" / "best.pt").exists()
    with pytest.raises(train_module.RunFailed, match=f"got NaN or infinity \\(first for {graphs[1].id!r} in perov5"):
        train_module.evaluate_checkpoint(best, split="train", limit=config.limit_train)  # the same, evaluated


def _epoch_bars(err: str) -> list[tuple[str, str]]:
    """(done, total) of each drawing of the bar of epochs of an ECN-S run in ``err``; every drawing must be one
    (tqdm draws a count past the total without its bar, as ``4epoch``)."""
    drawings = re.findall(r"train ecn-s:[^\r\n]*", err)
    bars = re.findall(r"train ecn-s: +\d+%\|[^|]*\| (\d+)/(\d+)", err)
    assert len(bars) == len(drawings), drawings
    return bars


def test_the_progress_bar_counts_finished_epochs(tmp_path, capsys):
    """Without quiet, a bar of epochs: a fresh run's starts at 0 of 2; resumed after one epoch, at 1 of 3, and
    after two, at 2 of 4."""
    capsys.readouterr()
    train(_tiny(epochs=2, quiet=False), tmp_path / "run")
    bars = _epoch_bars(capsys.readouterr().err)
    assert bars[0] == ("0", "2") and bars[-1] == ("2", "2"), bars
    state = load_checkpoint(tmp_path / "run" / "last.pt")
    for done, total in ((1, 3), (2, 4)):  # as if stopped after epoch `done` of `total`
        save_checkpoint(tmp_path / "run" / "last.pt", {**state, "epoch": done, "log": state["log"][:done],
                                                       "config": {**state["config"], "epochs": total}})
        (tmp_path / "run" / "metrics.json").unlink()
        train(None, tmp_path / "run", resume=True)
        bars = _epoch_bars(capsys.readouterr().err)
        assert bars[0] == (str(done), str(total)) and bars[-1] == (str(total), str(total)), bars
