"""Tests for the command line: ``python -m sklearn_slstm``."""

import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from sklearn_slstm import make_damped_sine
from sklearn_slstm.__main__ import GRID_LAYERS, N_TEST, build_parser, main

TINY = ["--samples", "300", "--epochs", "1", "--units", "4"]
TINY_GRID = ["--grid-search", "--samples", "60", "--epochs", "1", "--units", "2"]


def _block_matplotlib(monkeypatch):
    """Make every ``import matplotlib...`` fail, as if it were not installed."""
    for name in [name for name in sys.modules if name.split(".")[0] == "matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


def _table_rows(output, first_cell):
    return [line for line in output.splitlines() if line.startswith(first_cell)]


def test_experiment_prints_table_and_writes_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    output = tmp_path / "waves.png"

    assert main([*TINY, "--layers", "1", "--output", str(output)]) == 0

    out = capsys.readouterr().out
    assert "test MAE" in out
    assert "epoch" in out  # verbose per-epoch progress
    lstm_row, default_row = _table_rows(out, "StackedLSTMRegressor")
    assert "1 x 4 units" in lstm_row
    assert "1 x 16 units (default)" in default_row
    assert re.search(r"\d\.\d{4}", lstm_row)
    assert re.search(r"\d\.\d{4}", default_row)
    assert _table_rows(out, "Keras")
    assert _table_rows(out, "last-value")
    assert output.is_file()
    assert output.read_bytes().startswith(b"\x89PNG")


def test_experiment_trains_the_stacked_model_beside_the_default(
    tmp_path, capsys, monkeypatch
):
    _block_matplotlib(monkeypatch)
    main(["--samples", "60", "--epochs", "1", "--output", str(tmp_path / "x.png")])

    out = capsys.readouterr().out
    assert "hidden_layer_sizes=(20, 20)" in out
    stacked_row, default_row = _table_rows(out, "StackedLSTMRegressor")
    assert stacked_row.startswith("StackedLSTMRegressor 2 x 20 units, 1 epoch")
    assert default_row.startswith("StackedLSTMRegressor 1 x 16 units (default)")


def test_default_architecture_is_fitted_once(tmp_path, capsys, monkeypatch):
    _block_matplotlib(monkeypatch)
    argv = [*TINY[:4], "--layers", "1", "--units", "16"]
    main([*argv, "--output", str(tmp_path / "x.png")])

    (row,) = _table_rows(capsys.readouterr().out, "StackedLSTMRegressor")
    assert "1 x 16 units, 1 epoch" in row


def test_last_value_baseline_is_computed(tmp_path, capsys, monkeypatch):
    _block_matplotlib(monkeypatch)
    main([*TINY, "--seed", "3", "--output", str(tmp_path / "unused.png")])

    out = capsys.readouterr().out
    X_test, y_test = make_damped_sine(n_samples=N_TEST, random_state=4)
    expected = np.abs(y_test - X_test[:, -1:]).mean()
    (baseline_row,) = _table_rows(out, "last-value")
    assert f"{expected:.4f}" in baseline_row


def test_thread_count_is_restored(tmp_path, monkeypatch):
    _block_matplotlib(monkeypatch)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        main([*TINY, "--threads", "1", "--output", str(tmp_path / "unused.png")])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_missing_matplotlib_skips_plot_but_prints_table(tmp_path, capsys, monkeypatch):
    _block_matplotlib(monkeypatch)
    output = tmp_path / "waves.png"

    assert main([*TINY, "--output", str(output)]) == 0

    out = capsys.readouterr().out
    assert _table_rows(out, "StackedLSTMRegressor")
    assert 'pip install "sklearn-slstm[examples]"' in out
    assert not output.exists()


def test_grid_search_prints_one_row_per_layer_count(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    output = tmp_path / "layers.png"

    assert main([*TINY_GRID, "--cv", "2", "--output", str(output)]) == 0

    out = capsys.readouterr().out
    assert "CV MAE mean" in out
    rows = [
        line.split()
        for line in out.splitlines()
        if re.fullmatch(r"\d+(\s+\d+\.\d+){3}", line.strip())
    ]
    assert [int(row[0]) for row in rows] == list(GRID_LAYERS)
    assert output.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "argv",
    [
        ["--no-such-flag"],
        ["--layers", "0"],
        ["--epochs", "two"],
        ["--grid-search", "--cv", "1"],
    ],
)
def test_bad_arguments_exit_with_code_2(argv, capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "error:" in err


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("missing/plot.png", "does not exist"),
        (".", "it is a folder"),
    ],
)
def test_unwritable_output_fails_before_training(tmp_path, capsys, output, message):
    with pytest.raises(SystemExit) as excinfo:
        main([*TINY, "--output", str(tmp_path / output)])
    assert excinfo.value.code == 2
    captured = capsys.readouterr()
    assert message in captured.err and len(captured.err.strip().splitlines()) == 1
    assert captured.out == ""  # nothing was trained


def test_help_explains_every_flag(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["--help"])
    assert excinfo.value.code == 0
    out = capsys.readouterr().out
    for action in build_parser()._actions:
        for flag in action.option_strings:
            assert flag in out
        if action.option_strings != ["-h", "--help"]:
            assert action.help


def test_module_runs_as_a_program():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_slstm", "--layers", "-1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("python -m sklearn_slstm: error: argument --layers")
    assert len(result.stderr.strip().splitlines()) == 1
