"""Any strides, memory order, read-only array or memmap works at the boundary."""

import warnings

import numpy as np
import pytest

from sklearn_slstm import StackedLSTMRegressor


@pytest.fixture(scope="module")
def data(small_sine_data):
    """The shared small data set, as float32 copies."""
    return tuple(array.astype(np.float32) for array in small_sine_data)


def _read_only(array):
    array = array.copy()
    array.flags.writeable = False
    return array


def _memmap(array, folder):
    path = folder / f"array{array.ndim}.npy"
    np.save(path, array)
    return np.load(path, mmap_mode="r")


LAYOUTS = {
    # Negative strides on every axis, the values in their order.
    "reversed": lambda array, folder: np.flip(np.flip(array).copy()),
    "every other row": lambda array, folder: np.repeat(array, 2, axis=0)[::2],
    "fortran": lambda array, folder: np.asfortranarray(array),
    "read-only": lambda array, folder: _read_only(array),
    "memmap": _memmap,
}


@pytest.mark.parametrize("scaling", ["window", None])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_layouts_give_the_predictions_of_a_contiguous_copy(
    data, tmp_path, layout, scaling
):
    X, y = (LAYOUTS[layout](array, tmp_path) for array in data)
    X_contiguous, y_contiguous = np.ascontiguousarray(X), np.ascontiguousarray(y)
    params = {"scaling": scaling, "max_iter": 1, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg = StackedLSTMRegressor(**params).fit(X, y)
        y_pred = reg.predict(X)
    reference = StackedLSTMRegressor(**params).fit(X_contiguous, y_contiguous)
    np.testing.assert_array_equal(y_pred, reference.predict(X_contiguous))
