"""
===============================================
Searching the input window length in a pipeline
===============================================

How much of the past does a forecast need? Changing the window length
changes ``X`` itself, so the window cannot be searched by an estimator
parameter on a fixed ``X``. Instead, start from the parameters of each wave
and let :class:`~sklearn_slstm.DampedSineGenerator` sample the window inside
a :class:`~sklearn.pipeline.Pipeline`: its ``n_timesteps`` becomes a
hyper-parameter like any other, searched together with the LSTM's depth.

The generator's window always ends just before step 50, the forecast origin,
so every window length predicts the same targets and the comparison is fair.
"""

# %%
import os
import time

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline

from sklearn_slstm import DampedSineGenerator, StackedLSTMRegressor, make_damped_sine

# SKLEARN_SLSTM_FAST=1 (set by the documentation build) runs a smaller version.
FAST = os.environ.get("SKLEARN_SLSTM_FAST", "0") == "1"

N_TRAIN = 600 if FAST else 3_000
N_EPOCHS = 2 if FAST else 10
WINDOWS = (10, 50) if FAST else (10, 25, 50)
DEPTHS = (1, 2)

# %%
# Wave parameters as data
# -----------------------
# With ``return_params=True``, :func:`~sklearn_slstm.make_damped_sine` also
# returns each wave's period and decay. These two columns are the pipeline's
# input; ``y`` is still the 5 values after step 49.
_, y, params = make_damped_sine(n_samples=N_TRAIN, return_params=True, random_state=0)
_, y_test, params_test = make_damped_sine(
    n_samples=1_000, return_params=True, random_state=1
)
print(pd.DataFrame(params[:5], columns=["period", "decay"]))

# %%
# The generator turns them into windows of any length:
for n_timesteps in WINDOWS:
    window = DampedSineGenerator(n_timesteps=n_timesteps).fit_transform(params[:1])
    names = DampedSineGenerator(n_timesteps=n_timesteps).get_feature_names_out()
    print(
        f"n_timesteps={n_timesteps:2d}: shape {window.shape}, "
        f"steps {names[0]} to {names[-1]}"
    )

# %%
# The pipeline and the search
# ---------------------------
# :func:`~sklearn.pipeline.make_pipeline` names each step after its class in
# lower case, so the parameters are addressed as
# ``dampedsinegenerator__n_timesteps`` and
# ``stackedlstmregressor__hidden_layer_sizes``.
pipe = make_pipeline(
    DampedSineGenerator(),
    StackedLSTMRegressor(max_iter=N_EPOCHS, random_state=0),
)
param_grid = {
    "dampedsinegenerator__n_timesteps": list(WINDOWS),
    "stackedlstmregressor__hidden_layer_sizes": [(20,) * depth for depth in DEPTHS],
}
search = GridSearchCV(
    pipe,
    param_grid,
    scoring="neg_mean_absolute_error",
    cv=KFold(n_splits=3, shuffle=True, random_state=0),
)
start = time.perf_counter()
search.fit(params, y)
print(f"Search took {time.perf_counter() - start:.0f} s")

# %%
# The results
# -----------
results = pd.DataFrame(
    {
        "window": search.cv_results_["param_dampedsinegenerator__n_timesteps"],
        "layers": [
            len(sizes)
            for sizes in search.cv_results_[
                "param_stackedlstmregressor__hidden_layer_sizes"
            ]
        ],
        "CV MAE": -search.cv_results_["mean_test_score"],
        "std": search.cv_results_["std_test_score"],
        "fit (s)": search.cv_results_["mean_fit_time"],
    }
).astype({"window": int})
print(results.sort_values("CV MAE").to_string(index=False, float_format="%.4f"))

# %%
# A longer window shows the model more of each wave. It also costs more: an
# LSTM reads its input one step after another, so the work per epoch grows
# with the window length (the fit times above are wall-clock times, so other
# work on the machine adds noise to them).
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for depth, rows in results.groupby("layers"):
    ax.errorbar(
        rows["window"],
        rows["CV MAE"],
        yerr=rows["std"],
        marker="o",
        capsize=4,
        label=f"{depth} layer(s) of 20 units",
    )
ax.set_xticks(WINDOWS)
ax.set_xlabel("input window length (n_timesteps)")
ax.set_ylabel("cross-validated MAE")
ax.set_title("Window length against depth")
ax.legend()
plt.show()

# %%
# Testing the refitted pipeline
# -----------------------------
# The best pipeline was refitted on all training waves. It predicts straight
# from wave parameters: the generator samples the window it was tuned with.
best = search.best_estimator_
print(f"best parameters: {search.best_params_}")
print(f"test MAE: {mean_absolute_error(y_test, best.predict(params_test)):.4f}")
