"""
=======================================
Grid-searching the depth and the width
=======================================

How many LSTM layers does the damped sine problem need, and how wide should
they be? :class:`~sklearn_slstm.StackedLSTMRegressor` is an ordinary
scikit-learn estimator, so :class:`~sklearn.model_selection.GridSearchCV`
answers the question by cross-validation: ``hidden_layer_sizes`` sets both,
its length being the number of layers.
"""

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_slstm import StackedLSTMRegressor, make_damped_sine

# SKLEARN_SLSTM_FAST=1 (set by the documentation build) runs a smaller version.
FAST = os.environ.get("SKLEARN_SLSTM_FAST", "0") == "1"

N_TRAIN = 600 if FAST else 2_000
N_EPOCHS = 2 if FAST else 10
DEPTHS = (1, 2, 3) if FAST else (1, 2, 3, 4)
WIDTHS = (10,) if FAST else (10, 20)

# %%
# The search
# ----------
# Every combination of depth and width is one candidate, trained on each of
# three folds and scored by the negative MAE on the held-out fold (scikit-learn
# maximises scores, so errors come negated). Every candidate gets the same
# short training budget, which is part of the question asked: which
# architecture learns the most from that budget.
X, y = make_damped_sine(n_samples=N_TRAIN, random_state=0)
X_test, y_test = make_damped_sine(n_samples=1_000, random_state=1)

param_grid = {
    "hidden_layer_sizes": [(width,) * depth for depth in DEPTHS for width in WIDTHS]
}
search = GridSearchCV(
    StackedLSTMRegressor(max_iter=N_EPOCHS, random_state=0),
    param_grid,
    scoring="neg_mean_absolute_error",
    cv=KFold(n_splits=3, shuffle=True, random_state=0),
)
start = time.perf_counter()
search.fit(X, y)
print(
    f"{len(search.cv_results_['params'])} candidates x 3 folds "
    f"in {time.perf_counter() - start:.0f} s"
)

# %%
# The results
# -----------
# ``cv_results_`` holds one row per candidate.
results = pd.DataFrame(
    {
        "layers": [len(p["hidden_layer_sizes"]) for p in search.cv_results_["params"]],
        "units": [p["hidden_layer_sizes"][0] for p in search.cv_results_["params"]],
        "CV MAE": -search.cv_results_["mean_test_score"],
        "std": search.cv_results_["std_test_score"],
        "fit (s)": search.cv_results_["mean_fit_time"],
        "rank": search.cv_results_["rank_test_score"],
    }
)
print(results.sort_values("rank").to_string(index=False, float_format="%.4f"))

# %%
# The plot shows the mean cross-validated MAE against depth, with the standard
# deviation over folds as error bars, one line per width.
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for width, rows in results.groupby("units"):
    ax.errorbar(
        rows["layers"],
        rows["CV MAE"],
        yerr=rows["std"],
        marker="o",
        capsize=4,
        label=f"{width} units per layer",
    )
ax.set_xticks(DEPTHS)
ax.set_xlabel("number of LSTM layers")
ax.set_ylabel("cross-validated MAE")
ax.set_title(f"Damped sine: {N_TRAIN} waves, {N_EPOCHS} epochs")
ax.legend()
plt.show()

# %%
# The best candidate
# ------------------
# With the default ``refit=True`` the search refits the best candidate on all
# the training data, and fresh test waves check it. The refit sees half as
# many waves again as each cross-validation fit (all of them instead of two
# folds out of three), so with this short a training budget its test MAE is
# usually lower than the cross-validated one.
best = search.best_estimator_
test_mae = mean_absolute_error(y_test, best.predict(X_test))
print(f"best hidden_layer_sizes: {search.best_params_['hidden_layer_sizes']}")
print(f"cross-validated MAE:     {-search.best_score_:.4f}")
print(f"test MAE after refit:    {test_mae:.4f}")
print(f"last-value baseline:     {np.abs(y_test - X_test[:, -1:]).mean():.4f}")

# %%
# Deeper stacks cost more per epoch and, with a short training budget, can
# end up worse than shallow ones; the ``fit (s)`` column gives the price of
# each candidate. To run the candidates in parallel, pass ``n_jobs`` to
# :class:`~sklearn.model_selection.GridSearchCV`; the :doc:`user guide
# <../user_guide>` shows how to spread the same search over a Dask cluster.
