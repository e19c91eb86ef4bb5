"""
======================================
Sequences of different lengths
======================================

Real recordings rarely share one length. This example fits
:class:`~sklearn_slstm.StackedLSTMRegressor` on the Japanese Vowels data
set: 640 utterances of the Japanese vowels "ae" by nine speakers, each a
sequence of 7 to 29 frames of 12 LPC cepstrum coefficients, and the task is
to tell the speaker. The data set is bundled with aeon (``pip install
aeon``; nothing is downloaded when the example runs).

:func:`~sklearn_slstm.pad_sequences` pads the sequences with NaN into one
array, the format every scikit-learn tool that slices rows passes through
unchanged, and the estimator never feeds the padded steps to its LSTM
layers. We compare that with the naive alternative, padding with zeros,
which the network reads as data.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from aeon.datasets import load_japanese_vowels
from sklearn.linear_model import RidgeClassifierCV
from sklearn.preprocessing import LabelBinarizer

from sklearn_slstm import StackedLSTMRegressor, pad_sequences

# %%
# The data
# --------
# aeon gives each utterance as an array of shape (n_channels, n_frames); the
# estimator reads time steps first, so each one is transposed. The official
# split has 270 training and 370 test utterances.
X_train_list, y_train = load_japanese_vowels(split="train")
X_test_list, y_test = load_japanese_vowels(split="test")
train_sequences = [utterance.T for utterance in X_train_list]
test_sequences = [utterance.T for utterance in X_test_list]
lengths = [len(sequence) for sequence in train_sequences + test_sequences]
print(f"{len(lengths)} utterances of {min(lengths)} to {max(lengths)} frames")

# %%
# Padding
# -------
# One width for both splits: the longest utterance. NaN go before each
# sequence (``padding="pre"``, the default), so every row ends with its last
# frame. The zero-padded arrays are the same with NaN replaced by 0.
width = max(lengths)
X_train = pad_sequences(train_sequences, maxlen=width)
X_test = pad_sequences(test_sequences, maxlen=width)
print(f"X_train {X_train.shape}, {np.isnan(X_train[:, :, 0]).mean():.0%} padding")

# %%
# A regressor as a classifier
# ---------------------------
# The regressor learns the one-hot encoding of the speaker, and the
# predicted speaker is the largest output: it reads each sequence through
# its last step, which makes the comparison of paddings sharp.
# :class:`~sklearn_slstm.StackedLSTMClassifier` classifies directly (see the
# GunPoint example); its default head pools over all steps, and on this set
# it scored 0.962 with NaN padding and 0.972 with zeros (mean of 3 seeds),
# where the amount of zero padding tells it each utterance's length. Scaling is
# ``"global"``: the level of the coefficients says something about the
# speaker, and per-window scaling would remove it. The statistics are taken
# over the observed frames only.
encoder = LabelBinarizer().fit(y_train)
Y_train = encoder.transform(y_train)


def accuracy(X_fit, X_eval, seed):
    model = StackedLSTMRegressor(
        scaling="global",
        hidden_layer_sizes=(32,),
        loss="mse",
        max_iter=30,
        random_state=seed,
    ).fit(X_fit, Y_train)
    predicted = encoder.classes_[model.predict(X_eval).argmax(axis=1)]
    return np.mean(predicted == y_test)


seeds = [0, 1, 2]
results = {
    "NaN padding (never read)": [accuracy(X_train, X_test, seed) for seed in seeds],
    "zero padding (read as data)": [
        accuracy(np.nan_to_num(X_train), np.nan_to_num(X_test), seed) for seed in seeds
    ],
}

# %%
# A linear peer: a ridge classifier on the zero-padded, flattened sequences
# (it needs one fixed width, so it cannot do without padding values).
ridge = RidgeClassifierCV(alphas=np.logspace(-3, 3, 13)).fit(
    np.nan_to_num(X_train).reshape(len(X_train), -1), y_train
)
ridge_accuracy = ridge.score(np.nan_to_num(X_test).reshape(len(X_test), -1), y_test)

for name, scores in results.items():
    print(f"{name:28} accuracy {np.mean(scores):.3f} (seeds: {np.round(scores, 3)})")
print(f"{'ridge, zero padding':28} accuracy {ridge_accuracy:.3f}")

# %%
# With NaN padding the LSTM reads each utterance exactly as it was recorded,
# whatever its length; with zeros it first reads up to 22 frames of silence
# that do not exist, a different number for each utterance, and it is less
# accurate on average over the seeds. On so small a training set (30
# utterances per speaker) the linear peer is as good or better: the LSTM's
# advantage here is that it needs no padding value at all, not accuracy.
fig, ax = plt.subplots(figsize=(6, 3))
names = [*results, "ridge, zero padding"]
means = [np.mean(scores) for scores in results.values()] + [ridge_accuracy]
ax.barh(names, means, color=["tab:blue", "tab:orange", "tab:gray"])
for name, scores in results.items():
    ax.plot(scores, [name] * len(scores), "k.", label="one seed")
ax.set_xlim(0.5, 1)
ax.set_xlabel("test accuracy (9 speakers)")
ax.invert_yaxis()
fig.tight_layout()
plt.show()
