"""Forecasting a noisy seasonal series with an LSTM, against the naive last-value forecast.

The series: a slow trend, a daily season (period 24) and a weekly one (period 168), plus Gaussian noise. From the
last 72 values the model predicts the value 6 steps ahead, as a change from the last value seen (so the trend
beyond the training range does not matter); windows come from `timeseries_dataset_from_array`, split in time
(train / validation / test). It prints the test MAE of the LSTM and of the naive forecast (the last
value seen) and writes forecast_vs_truth.png when matplotlib is installed.

    python examples/timeseries_forecast.py [output.png]
"""

import sys
import time

import numpy as np

import shendu as sd
from shendu.keras import Sequential, layers, optimizers, utils

WINDOW, HORIZON, BATCH = 72, 6, 64

sd.random.seed(0)
rng = np.random.default_rng(0)
t = np.arange(4000)
series = (0.001 * t + 2.0 * np.sin(2 * np.pi * t / 24) + 1.0 * np.sin(2 * np.pi * t / 168)
          + rng.normal(0, 0.4, t.size)).astype("float32")

n_train, n_val = 2800, 600
mean, std = series[:n_train].mean(), series[:n_train].std()
scaled = ((series - mean) / std)[:, None]


# targets[i] belongs to the window starting at i: the change from its last value to the value HORIZON steps later
change = scaled[WINDOW + HORIZON - 1:, 0] - scaled[WINDOW - 1:-HORIZON, 0]


def windows(start: int, end: int, shuffle: bool = False):
    """Windows of WINDOW steps within [start, end), each with the change HORIZON steps after it as target."""
    return utils.timeseries_dataset_from_array(scaled[:-HORIZON], change,
                                               sequence_length=WINDOW, batch_size=BATCH, shuffle=shuffle, seed=0,
                                               start_index=start, end_index=end - HORIZON)


train, val, test = windows(0, n_train, shuffle=True), windows(n_train, n_train + n_val), windows(n_train + n_val,
                                                                                                len(series) - 1)
model = Sequential([
    layers.Input((WINDOW, 1)),
    layers.LSTM(32),
    layers.Dense(1),
])
model.compile(optimizer=optimizers.Adam(0.005), loss="mse", metrics=["mae"])
model.summary()
start = time.perf_counter()
model.fit(train, validation_data=val, epochs=12, verbose=2)
seconds = time.perf_counter() - start

x_test = np.concatenate([x for x, _ in test])
naive = x_test[:, -1, 0] * std + mean  # the last value seen
y_test = naive + np.concatenate([y for _, y in test]) * std
forecast = naive + model.predict(x_test, verbose=0)[:, 0] * std
mae_model = float(np.abs(forecast - y_test).mean())
mae_naive = float(np.abs(naive - y_test).mean())
print(f"training: {seconds:.1f} s for 12 epochs")
print(f"test MAE, {HORIZON} steps ahead, over {len(y_test)} windows: LSTM {mae_model:.3f}, "
      f"naive last value {mae_naive:.3f} (LSTM error {mae_model / mae_naive:.0%} of the naive one; "
      f"noise std 0.4 bounds any forecast near MAE 0.32)")

out = sys.argv[1] if len(sys.argv) > 1 else "forecast_vs_truth.png"
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is not installed: no plot written (pip install matplotlib)")
else:
    shown = slice(0, 300)
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(y_test[shown], label="truth", color="black", linewidth=1)
    ax.plot(forecast[shown], label=f"LSTM (MAE {mae_model:.2f})")
    ax.plot(naive[shown], label=f"naive last value (MAE {mae_naive:.2f})", alpha=0.7)
    ax.set_xlabel("test window")
    ax.set_ylabel(f"value {HORIZON} steps ahead")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"plot written to {out}")
