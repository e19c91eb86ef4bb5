"""The types to trust that the user guide lists are exactly what skops asks for.

skops, and mlflow's default skops format (test_integration_mlflow.py), load
only the types a user trusts. The user guide lists this library's types;
TRUSTED below is that list, in the documented order. The tests check it
three ways, so that neither the list nor the documentation can drift: it
names every public estimator class, skops asks for exactly these types for
a model that holds them all, and every ``trusted = [...]`` list in the user
guide is this list.
"""

import ast
import inspect
import pathlib
import re

import pytest
from sklearn.base import BaseEstimator
from sklearn.pipeline import make_pipeline

import sklearn_slstm
from sklearn_slstm import (
    ConformalIntervalRegressor,
    DampedSineGenerator,
    LagsToSequences,
    StackedLSTMClassifier,
    StackedLSTMRegressor,
)

sio = pytest.importorskip("skops.io")

TRUSTED = [
    "sklearn_slstm._regressor.StackedLSTMRegressor",
    "sklearn_slstm._classifier.StackedLSTMClassifier",
    "sklearn_slstm._conformal.ConformalIntervalRegressor",
    "sklearn_slstm._generator.DampedSineGenerator",
    "sklearn_slstm._lags.LagsToSequences",
]
USER_GUIDE = pathlib.Path(__file__).parents[1] / "docs" / "user_guide.rst"


def documented_lists(text):
    """Every list literal assigned to ``trusted`` in ``text``."""
    return [
        ast.literal_eval(literal)
        for literal in re.findall(r"\btrusted = (\[[^\]]*\])", text)
    ]


def test_the_list_names_every_public_estimator():
    public = [getattr(sklearn_slstm, name) for name in sklearn_slstm.__all__]
    estimators = [
        f"{item.__module__}.{item.__qualname__}"
        for item in public
        if inspect.isclass(item) and issubclass(item, BaseEstimator)
    ]
    assert sorted(estimators) == sorted(TRUSTED)


def test_skops_asks_for_exactly_the_list(sine_params_data, tiny_params):
    # One model that holds every public estimator, fitted: a fitted model's
    # state is what a saved file holds.
    params, y = sine_params_data
    model = ConformalIntervalRegressor(
        make_pipeline(
            DampedSineGenerator(),
            LagsToSequences(order="oldest_first"),
            StackedLSTMRegressor(**tiny_params),
        ),
        shuffle=False,
    ).fit(params, y)
    classifier = StackedLSTMClassifier(**tiny_params).fit(params, y[:, 0] > 0.5)
    untrusted = sio.get_untrusted_types(data=sio.dumps([model, classifier]))
    assert sorted(untrusted) == sorted(TRUSTED)


def test_every_documented_list_is_the_list():
    lists = documented_lists(USER_GUIDE.read_text())
    # One for skops itself and one for mlflow.
    assert len(lists) >= 2
    for documented in lists:
        assert documented == TRUSTED


def test_documented_lists_are_found():
    text = 'trusted = [\n    "a.B",\n    "c.D",\n]\nother = ["e.F"]\n'
    assert documented_lists(text) == [["a.B", "c.D"]]
