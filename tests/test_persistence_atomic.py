"""save never leaves a broken model file: failed, limited or killed saves.

Round trips: test_persistence_save_load.py; refused files:
test_persistence_untrusted.py.
"""

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from sklearn_slstm import StackedLSTMRegressor

pytest.importorskip("safetensors")


@pytest.fixture(scope="module")
def data(small_sine_data):
    """40 waves of 10 steps; targets the 3 values that follow."""
    return small_sine_data


@pytest.fixture
def good_file(data, tiny_params, tmp_path):
    """A saved model, its bytes and its predictions."""
    X, y = data
    reg = StackedLSTMRegressor(**tiny_params).fit(X, y)
    path = tmp_path / "model.safetensors"
    reg.save(path)
    return path, path.read_bytes(), reg.predict(X)


def _assert_intact(good_file, X):
    path, content, predictions = good_file
    assert path.read_bytes() == content
    np.testing.assert_array_equal(
        StackedLSTMRegressor.load(path).predict(X), predictions
    )
    assert sorted(os.listdir(path.parent)) == [path.name]  # no temporary file


def test_failed_replace_leaves_the_old_file(data, tiny_params, good_file, monkeypatch):
    X, y = data
    other = StackedLSTMRegressor(**{**tiny_params, "random_state": 1}).fit(X, y)

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space left"):
        other.save(good_file[0])
    monkeypatch.undo()
    _assert_intact(good_file, X)


def test_new_file_gets_the_usual_permissions(good_file):
    umask = os.umask(0o022)
    os.umask(umask)
    mode = stat.S_IMODE(good_file[0].stat().st_mode)
    assert mode == 0o666 & ~umask


# A child that fits a model on data of the shape of small_sine_data, then
# saves it to sys.argv[1] in the way the test chooses. It must not share the
# test's interpreter: file-size limits and kills apply to whole processes.
_CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from sklearn_slstm import StackedLSTMRegressor, make_damped_sine

    X, y = make_damped_sine(n_samples=40, n_timesteps=10, n_outputs=3, random_state=0)
    reg = StackedLSTMRegressor(
        hidden_layer_sizes=(64,), max_iter=1, random_state=1
    ).fit(X, y)
    mode = sys.argv[2]
    if mode == "size-limit":
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
        try:
            reg.save(sys.argv[1])
        except OSError as exc:
            print("OSError", exc.errno)
    else:
        print("saving", flush=True)
        while True:
            reg.save(sys.argv[1])
    """
)


def _child(path, mode):
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path), mode],
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="POSIX file-size limits")
def test_save_over_the_file_size_limit_leaves_the_old_file(data, good_file):
    child = _child(good_file[0], "size-limit")
    out, _ = child.communicate(timeout=120)
    assert "OSError 27" in out  # EFBIG: the limit was hit
    _assert_intact(good_file, data[0])


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_killed_saves_never_leave_a_broken_file(data, good_file):
    path = good_file[0]
    rng = np.random.default_rng(0)
    for _ in range(4):
        child = _child(path, "loop")
        assert child.stdout.readline().strip() == "saving"
        time.sleep(rng.uniform(0.0, 0.2))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        child.stdout.close()
        # The old model or one of the child's: either loads and predicts.
        assert StackedLSTMRegressor.load(path).predict(data[0]).shape == (40, 3)
