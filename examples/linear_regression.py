"""Linear regression as the tutorials teach it: y = 3x + noise, one Dense unit, Adam, mean squared error."""

import numpy as np

import shendu as tf  # the tutorials' `import tensorflow as tf`, unchanged below

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (200, 1)).astype("float32")
y = 3 * x + rng.normal(0, 0.1, x.shape).astype("float32")

model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(1,))])
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.1), loss="mse")
history = model.fit(x, y, epochs=1000, batch_size=200, verbose=0)

w, b = model.layers[0].get_weights()
print(f"final loss {history.history['loss'][-1]:.5f}")
print(f"learned w = {w.item():.3f} (true 3), b = {b.item():.3f} (true 0)")
