"""StackedLSTMRegressor: fitted state, input shapes, reproducibility, training."""

import subprocess
import sys
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import Callback

from sklearn_slstm import StackedLSTMRegressor, make_damped_sine
from sklearn_slstm._training import colour_wanted


def test_documented_attributes_after_fit(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params).fit(X, y)
    assert reg.n_features_in_ == 20
    assert reg.n_outputs_ == 5
    assert reg.n_iter_ == 2
    assert len(reg.loss_curve_) == 2
    assert reg.best_loss_ == min(reg.loss_curve_)
    assert reg.validation_scores_ is None
    assert reg.best_validation_score_ is None
    assert reg.net_.module_.head.out_features == 5
    assert not hasattr(reg, "feature_names_in_")


def _documented_attributes(estimator_class):
    """The names in the Attributes section of the class docstring."""
    section = estimator_class.__doc__.split("Attributes\n    ----------\n")[1]
    section = section.split("\n\n    See Also")[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("    ") and not line.startswith("     ") and " : " in line:
            names.update(name.strip() for name in line.split(" : ")[0].split(","))
    return names


def test_fitted_state_is_defined_once(sine_data, trending_windows, tiny_params):
    # The docstring, fit and the state that pickle, skops and save store all
    # follow the class's table of fitted attributes: a fitted attribute added
    # to one of them and not to the table fails here.
    X, y = sine_data
    table = StackedLSTMRegressor._fitted_attributes
    optional = StackedLSTMRegressor._optional_attributes
    public = {name for name in table if not name.startswith("_")}
    assert _documented_attributes(StackedLSTMRegressor) == public | {"net_"}

    frame = pd.DataFrame(X, columns=[f"step_{i}" for i in range(X.shape[1])])
    params = set(StackedLSTMRegressor().get_params())
    target_map = {"target_offset_", "target_scale_"}
    global_statistics = {"x_mean_", "x_scale_", "y_mean_", "y_scale_"}
    names = {"feature_names_in_"}
    assert optional == global_statistics | target_map | names | {"quantiles_"}
    for settings, X_fit, y_fit, optional_set in [
        ({}, X, y, set()),
        ({"scaling": "global"}, frame, y, global_statistics | names),
        # Windows scaled apart from their targets: "auto" maps the targets.
        ({}, trending_windows[0] / 100, trending_windows[1], target_map),
        ({"loss": "quantile"}, X, y, {"quantiles_"}),
    ]:
        reg = StackedLSTMRegressor(**tiny_params, **settings).fit(X_fit, y_fit)
        assert {"target_offset_"} & set(vars(reg)) == optional_set & {"target_offset_"}
        set_by_fit = set(vars(reg)) - params
        expected = set(table) - optional | optional_set
        assert set_by_fit == expected | {"net_", "_net_is_incremental"}
        state = reg.__getstate__()
        assert set(state["fitted"]) == expected
        assert set(state["params"]) == params
        assert state["other"] == {}
        # A clone keeps the parameters and none of the fitted state.
        assert not set(vars(clone(reg))) - params


def test_layers_follow_hidden_layer_sizes(sine_data):
    X, y = sine_data
    reg = StackedLSTMRegressor(hidden_layer_sizes=(6, 4, 3), max_iter=1).fit(X, y)
    assert [lstm.hidden_size for lstm in reg.net_.module_.lstms] == [6, 4, 3]
    single = StackedLSTMRegressor(hidden_layer_sizes=5, max_iter=1).fit(X, y)
    assert [lstm.hidden_size for lstm in single.net_.module_.lstms] == [5]


def test_1d_y_gives_1d_predictions(sine_data, tiny_params):
    X, y = sine_data
    flat = StackedLSTMRegressor(**tiny_params).fit(X, y[:, 0])
    assert flat.predict(X).shape == (300,)
    column = StackedLSTMRegressor(**tiny_params).fit(X, y[:, :1])
    assert column.predict(X).shape == (300, 1)
    np.testing.assert_array_equal(flat.predict(X), column.predict(X).ravel())


def test_predictions_are_float64(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params).fit(X.astype(np.float32), y)
    assert reg.predict(X).dtype == np.float64


def test_3d_input_with_two_channels(sine_data, tiny_params):
    X, y = sine_data
    rng = np.random.RandomState(0)
    X3 = np.stack([X, rng.normal(size=X.shape)], axis=-1)
    reg = StackedLSTMRegressor(**tiny_params).fit(X3, y)
    assert reg.net_.module_.lstms[0].input_size == 2
    assert reg.predict(X3).shape == (300, 5)
    with pytest.raises(ValueError, match=r"2 channel\(s\)"):
        reg.predict(X3[:, :, :1])
    with pytest.raises(ValueError, match="20 features"):
        reg.predict(X3[:, :10])


def test_dataframe_input_records_feature_names(sine_data, tiny_params):
    X, y = sine_data
    frame = pd.DataFrame(X, columns=[f"t{i}" for i in range(20)])
    reg = StackedLSTMRegressor(**tiny_params).fit(frame, y)
    assert list(reg.feature_names_in_) == list(frame.columns)
    np.testing.assert_array_equal(
        reg.predict(frame), StackedLSTMRegressor(**tiny_params).fit(X, y).predict(X)
    )
    with pytest.raises(ValueError, match="feature names"):
        reg.predict(frame.rename(columns={"t0": "start"}))


def test_same_random_state_gives_identical_predictions(sine_data, tiny_params):
    X, y = sine_data
    first = StackedLSTMRegressor(**tiny_params).fit(X, y).predict(X)
    second = StackedLSTMRegressor(**tiny_params).fit(X, y).predict(X)
    other = (
        StackedLSTMRegressor(**{**tiny_params, "random_state": 1}).fit(X, y).predict(X)
    )
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, other)


def test_same_random_state_identical_across_processes(sine_data, tmp_path, tiny_params):
    X, y = sine_data
    joblib.dump((X, y), tmp_path / "data.joblib")
    script = (
        "import joblib, sys\n"
        "from sklearn_slstm import StackedLSTMRegressor\n"
        f"X, y = joblib.load({str(tmp_path / 'data.joblib')!r})\n"
        f"reg = StackedLSTMRegressor(**{dict(tiny_params)!r}).fit(X, y)\n"
        f"joblib.dump(reg.predict(X), {str(tmp_path / 'pred.joblib')!r})\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    here = StackedLSTMRegressor(**tiny_params).fit(X, y).predict(X)
    np.testing.assert_array_equal(joblib.load(tmp_path / "pred.joblib"), here)


def test_fit_leaves_global_random_state_alone(sine_data, tiny_params):
    X, y = sine_data
    np.random.seed(123)
    torch.manual_seed(123)
    numpy_state = np.random.get_state()[1].copy()
    torch_state = torch.get_rng_state().clone()
    StackedLSTMRegressor(
        **{
            **tiny_params,
            "hidden_layer_sizes": (8, 8),
            "dropout": 0.2,
            "early_stopping": True,
        }
    ).fit(X, y)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_prediction_independent_of_batch_composition(sine_data, tiny_params):
    # Batches are padded to a multiple of 4 rows, not to a fixed size: a
    # row predicts the same alone and in batches of every size.
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params).fit(X, y)
    full = reg.predict(X)
    one_by_one = np.vstack([reg.predict(X[i : i + 1]) for i in range(0, 300, 37)])
    np.testing.assert_array_equal(one_by_one, full[::37])
    for n_rows in [2, 3, 5, 7, 9, 13, 299]:
        np.testing.assert_array_equal(reg.predict(X[-n_rows:]), full[-n_rows:])


def test_defaults_learn_damped_sine_far_better_than_last_value():
    # The defaults on a problem 3x smaller than the reference: about a second.
    X, y = make_damped_sine(n_samples=3000, random_state=0)
    X_test, y_test = make_damped_sine(n_samples=500, random_state=1)
    reg = StackedLSTMRegressor(random_state=0)
    mae = np.abs(reg.fit(X, y).predict(X_test) - y_test).mean()
    naive_mae = np.abs(X_test[:, -1:] - y_test).mean()
    assert mae < naive_mae / 5, (mae, naive_mae)


# Short constant-rate fits; their ConvergenceWarning is tested elsewhere.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", ["mae", "mse", "huber"])
@pytest.mark.parametrize("learning_rate", ["constant", "onecycle", "cosine"])
def test_losses_and_schedules_train(sine_data, loss, learning_rate):
    X, y = sine_data
    reg = StackedLSTMRegressor(
        hidden_layer_sizes=(8,),
        loss=loss,
        learning_rate=learning_rate,
        max_iter=4,
        random_state=0,
    ).fit(X, y)
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]
    assert np.isfinite(reg.predict(X)).all()


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "rmsprop", "sgd"])
def test_optimizers(sine_data, optimizer, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params, optimizer=optimizer).fit(X, y)
    assert type(reg.net_.optimizer_).__name__.lower() == optimizer
    assert np.isfinite(reg.predict(X)).all()


class _RecordWeights(Callback):
    """Keep a copy of the weights and validation loss after every epoch."""

    def initialize(self):
        self.snapshots = []
        return self

    def on_epoch_end(self, net, **kwargs):
        weights = {k: v.clone() for k, v in net.module_.state_dict().items()}
        self.snapshots.append((net.history[-1, "valid_loss"], weights))


def test_early_stopping_stops_and_restores_best_weights(sine_data):
    X, y = sine_data
    reg = StackedLSTMRegressor(
        hidden_layer_sizes=(8,),
        learning_rate="constant",
        learning_rate_init=0.05,
        early_stopping=True,
        n_iter_no_change=2,
        tol=0.0,
        max_iter=100,
        callbacks=[("record", _RecordWeights())],
        random_state=0,
    ).fit(X, y)
    assert reg.n_iter_ < 100
    assert len(reg.validation_scores_) == reg.n_iter_
    snapshots = dict(reg.net_.callbacks_)["record"].snapshots
    best = int(np.argmin([valid_loss for valid_loss, _ in snapshots]))
    # The score describes the weights kept, those of the lowest valid loss.
    assert reg.best_validation_score_ == reg.validation_scores_[best]
    _, best_weights = snapshots[best]
    for name, value in reg.net_.module_.state_dict().items():
        assert torch.equal(value, best_weights[name]), name


def test_user_callbacks_are_not_changed(sine_data, tiny_params):
    X, y = sine_data
    recorder = _RecordWeights()
    StackedLSTMRegressor(**tiny_params, early_stopping=True, callbacks=[recorder]).fit(
        X, y
    )
    assert not hasattr(recorder, "snapshots")


class _RecordGradientNorm(Callback):
    """Record the gradient's total norm as the optimizer will see it."""

    def initialize(self):
        self.norms = []
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        grads = [p.grad for _, p in named_parameters if p.grad is not None]
        self.norms.append(
            torch.linalg.vector_norm(
                torch.stack([torch.linalg.vector_norm(g) for g in grads])
            ).item()
        )


@pytest.mark.parametrize("gradient_clip", [None, 1e-3])
def test_gradient_clip_bounds_the_gradient_norm(sine_data, gradient_clip, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(
        **tiny_params,
        gradient_clip=gradient_clip,
        callbacks=[("norms", _RecordGradientNorm())],
    ).fit(X, y)
    norms = np.array(dict(reg.net_.callbacks_)["norms"].norms)
    if gradient_clip is None:
        assert norms.max() > 1e-2
    else:
        assert norms.max() <= gradient_clip * (1 + 1e-5)


def test_bidirectional_and_dropout(sine_data):
    X, y = sine_data
    reg = StackedLSTMRegressor(
        hidden_layer_sizes=(6, 4), bidirectional=True, dropout=0.5, max_iter=1
    ).fit(X, y)
    assert reg.net_.module_.head.in_features == 8
    np.testing.assert_array_equal(reg.predict(X), reg.predict(X))


def test_dropout_acts_in_training_only(sine_data):
    X, y = sine_data
    reg = StackedLSTMRegressor(
        hidden_layer_sizes=(6, 6), dropout=0.5, max_iter=1, random_state=0
    ).fit(X, y)
    module = reg.net_.module_
    sequences = torch.as_tensor(X[:50, :, None], dtype=torch.float32)
    with torch.no_grad():
        module.train()
        trained = [module(sequences) for _ in range(2)]
        module.eval()
        evaluated = module(sequences)
    # In training mode the dropout masks differ from call to call...
    assert not torch.equal(trained[0], trained[1])
    assert not torch.allclose(trained[0], evaluated)
    # ...while predict runs in evaluation mode, whatever mode it finds.
    module.train()
    first = reg.predict(X)
    assert not module.training
    np.testing.assert_array_equal(reg.predict(X), first)
    without_dropout = clone(reg).set_params(dropout=0.0)
    assert not np.array_equal(reg.predict(X), without_dropout.fit(X, y).predict(X)), (
        "dropout changed nothing in training"
    )


def test_verbose_prints_epoch_progress(sine_data, capsys, tiny_params):
    X, y = sine_data
    StackedLSTMRegressor(**tiny_params).fit(X, y)
    assert capsys.readouterr().out == ""
    StackedLSTMRegressor(**tiny_params, verbose=1, early_stopping=True).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out and "dur" in out
    assert "\x1b[" not in out  # no colour codes when not on a terminal


@pytest.mark.parametrize(
    ("isatty", "no_color", "expected"),
    [(True, None, True), (True, "1", False), (False, None, False)],
)
def test_colour_only_on_a_terminal_without_no_color(
    monkeypatch, isatty, no_color, expected
):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: isatty, raising=False)
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    assert colour_wanted() is expected


def test_device_auto_uses_cpu_without_cuda(sine_data, monkeypatch, tiny_params):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params, device="auto").fit(X, y)
    assert reg.net_.device == "cpu"
    with pytest.raises(ValueError, match="CUDA is not available"):
        StackedLSTMRegressor(**tiny_params, device="cuda").fit(X, y)


def test_dropout_with_one_layer_warns(sine_data, tiny_params):
    X, y = sine_data
    with pytest.warns(UserWarning, match="dropout=0.3 has no effect with a single"):
        StackedLSTMRegressor(**{**tiny_params, "dropout": 0.3}).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        StackedLSTMRegressor(
            **{**tiny_params, "hidden_layer_sizes": (4, 4), "dropout": 0.3}
        ).fit(X, y)


def test_best_validation_score_describes_the_weights_kept(sine_data):
    X, y = sine_data
    # With this seed, the epoch of the lowest validation loss (MAE), whose
    # weights early stopping keeps (tol=0: any decrease counts), is not the
    # epoch of the highest R^2.
    reg = StackedLSTMRegressor(
        max_iter=30, early_stopping=True, n_iter_no_change=5, tol=0, random_state=4
    ).fit(X, y)
    valid_losses = [epoch["valid_loss"] for epoch in reg.net_.history]
    kept = int(np.argmin(valid_losses))
    assert kept != int(np.argmax(reg.validation_scores_))
    assert reg.best_validation_score_ == reg.validation_scores_[kept]
