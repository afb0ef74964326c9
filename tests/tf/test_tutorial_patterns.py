"""The patterns of the TensorFlow 2 tutorials, run end to end with `import shendu as tf` on tiny synthetic data:
the advanced quickstart, a loop from scratch with regularization losses, the CVAE, the DCGAN, a tf.data input
pipeline, the basics and autodiff guides, time-series windows and a checkpointed custom loop. (The plain tape loop
that trains exactly as `fit` is in test_tape.py.)"""

from __future__ import annotations

import re

import numpy as np
import pytest

import shendu as tf
from shendu.keras import layers


def two_class_images(n: int, size: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (n, size, size): class 0 is bright on the left half, class 1 on the right, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.integers(0, 60, (n, size, size))
    half = size // 2
    for i, label in enumerate(y):
        cols = slice(half, size) if label else slice(0, half)
        x[i, :, cols] += 150
    return x.astype(np.uint8), y.astype(np.int64)


# 1. The advanced quickstart: a subclassed model trained by a tf.function step with metrics.

class MyModel(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.conv1 = layers.Conv2D(4, 3, activation="relu")
        self.flatten = layers.Flatten()
        self.d1 = layers.Dense(16, activation="relu")
        self.d2 = layers.Dense(2)

    def call(self, x):
        x = self.conv1(x)
        x = self.flatten(x)
        x = self.d1(x)
        return self.d2(x)


def test_advanced_quickstart_trains_a_subclassed_model_above_chance(capsys):
    tf.random.set_seed(0)
    (x_train, y_train), (x_test, y_test) = two_class_images(96), two_class_images(32, seed=1)
    x_train, x_test = x_train / 255.0, x_test / 255.0
    x_train = x_train[..., tf.newaxis].astype("float32")
    x_test = x_test[..., tf.newaxis].astype("float32")
    train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10000).batch(32)
    test_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(32)

    model = MyModel()
    loss_object = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = tf.keras.optimizers.Adam()
    train_loss = tf.keras.metrics.Mean(name="train_loss")
    train_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name="train_accuracy")
    test_loss = tf.keras.metrics.Mean(name="test_loss")
    test_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name="test_accuracy")

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            predictions = model(images, training=True)
            loss = loss_object(labels, predictions)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        train_loss(loss)
        train_accuracy(labels, predictions)

    @tf.function
    def test_step(images, labels):
        predictions = model(images, training=False)
        t_loss = loss_object(labels, predictions)
        test_loss(t_loss)
        test_accuracy(labels, predictions)

    losses = []
    for epoch in range(5):
        train_loss.reset_state()
        train_accuracy.reset_state()
        test_loss.reset_state()
        test_accuracy.reset_state()
        for images, labels in train_ds:
            train_step(images, labels)
        for test_images, test_labels in test_ds:
            test_step(test_images, test_labels)
        losses.append(train_loss.result())
        print(
            f"Epoch {epoch + 1}, "
            f"Loss: {train_loss.result():.4f}, "
            f"Accuracy: {train_accuracy.result() * 100:.2f}, "
            f"Test Loss: {test_loss.result():.4f}, "
            f"Test Accuracy: {test_accuracy.result() * 100:.2f}"
        )
    lines = capsys.readouterr().out.splitlines()
    pattern = r"Epoch \d, Loss: \d+\.\d{4}, Accuracy: \d+\.\d{2}, Test Loss: \d+\.\d{4}, Test Accuracy: \d+\.\d{2}"
    assert len(lines) == 5 and all(re.fullmatch(pattern, line) for line in lines)
    assert losses[-1] < losses[0]
    assert test_accuracy.result() > 0.9
    predictions = model(x_test, training=False).numpy()
    assert test_accuracy.result() == pytest.approx(np.mean(predictions.argmax(1) == y_test))


# 2. A training loop from scratch with a regularized functional model (test_tape.py has the plain loop).

def get_model():
    inputs = tf.keras.Input(shape=(6,), name="digits")
    x1 = layers.Dense(8, activation="relu", kernel_regularizer=tf.keras.regularizers.l2(1e-2))(inputs)
    outputs = layers.Dense(2, name="predictions")(x1)
    return tf.keras.Model(inputs=inputs, outputs=outputs)


def test_loop_from_scratch_with_regularization_losses_trains_exactly_as_fit(capsys):
    rng = np.random.default_rng(0)
    x_train = rng.standard_normal((48, 6)).astype("float32")
    y_train = (x_train[:, 0] + x_train[:, 1] > 0).astype("int64")
    model = get_model()
    initial = model.get_weights()
    optimizer = tf.keras.optimizers.SGD(learning_rate=0.1)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = tf.keras.metrics.SparseCategoricalAccuracy()
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).batch(16)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
            loss_value += sum(model.losses)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        train_acc_metric.update_state(y, logits)
        return loss_value

    for _epoch in range(3):
        for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
            loss_value = train_step(x_batch_train, y_batch_train)
            if step % 2 == 0:
                print(f"Training loss (for one batch) at step {step}: {float(loss_value):.4f}")
        train_acc = train_acc_metric.result()
        print(f"Training acc over epoch: {float(train_acc):.4f}")
        train_acc_metric.reset_state()
    out = capsys.readouterr().out
    assert len(re.findall(r"Training acc over epoch: \d\.\d{4}\n", out)) == 3
    assert len(re.findall(r"at step [02]: \d\.\d{4}\n", out)) == 6 and loss_value.shape == ()

    reference = get_model()
    reference.set_weights(initial)
    reference.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.1), loss=loss_fn)
    reference.fit(x_train, y_train, batch_size=16, epochs=3, shuffle=False, verbose=0)
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    kernel = model.layers[1].get_weights()[0]
    assert float(model.losses[0]) == pytest.approx(1e-2 * np.sum(kernel.astype(np.float64) ** 2), rel=1e-5)


# 3. The convolutional variational autoencoder.

class CVAE(tf.keras.Model):
    """The tutorial's CVAE on 8x8 images: a conv encoder to (mean, logvar) and a transposed-conv decoder."""

    def __init__(self, latent_dim):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = tf.keras.Sequential([
            tf.keras.layers.InputLayer(input_shape=(8, 8, 1)),
            tf.keras.layers.Conv2D(filters=4, kernel_size=3, strides=(2, 2), activation="relu"),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(latent_dim + latent_dim),
        ])
        self.decoder = tf.keras.Sequential([
            tf.keras.layers.InputLayer(input_shape=(latent_dim,)),
            tf.keras.layers.Dense(units=4 * 4 * 4, activation=tf.nn.relu),
            tf.keras.layers.Reshape(target_shape=(4, 4, 4)),
            tf.keras.layers.Conv2DTranspose(filters=8, kernel_size=3, strides=2, padding="same", activation="relu"),
            tf.keras.layers.Conv2DTranspose(filters=1, kernel_size=3, strides=1, padding="same"),
        ])

    @tf.function
    def sample(self, eps=None):
        if eps is None:
            eps = tf.random.normal(shape=(10, self.latent_dim))
        return self.decode(eps, apply_sigmoid=True)

    def encode(self, x):
        mean, logvar = tf.split(self.encoder(x), num_or_size_splits=2, axis=1)
        return mean, logvar

    def reparameterize(self, mean, logvar):
        eps = tf.random.normal(shape=mean.shape)
        return eps * tf.exp(logvar * .5) + mean

    def decode(self, z, apply_sigmoid=False):
        logits = self.decoder(z)
        if apply_sigmoid:
            probs = tf.sigmoid(logits)
            return probs
        return logits


def log_normal_pdf(sample, mean, logvar, raxis=1):
    log2pi = tf.math.log(2. * np.pi)
    return tf.reduce_sum(-.5 * ((sample - mean) ** 2. * tf.exp(-logvar) + logvar + log2pi), axis=raxis)


def compute_loss(model, x):
    mean, logvar = model.encode(x)
    z = model.reparameterize(mean, logvar)
    x_logit = model.decode(z)
    cross_ent = tf.nn.sigmoid_cross_entropy_with_logits(logits=x_logit, labels=x)
    logpx_z = -tf.reduce_sum(cross_ent, axis=[1, 2, 3])
    logpz = log_normal_pdf(z, 0., 0.)
    logqz_x = log_normal_pdf(z, mean, logvar)
    return -tf.reduce_mean(logpx_z + logpz - logqz_x)


@tf.function
def cvae_train_step(model, x, optimizer):
    with tf.GradientTape() as tape:
        loss = compute_loss(model, x)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))


def binary_images(n: int, seed: int = 0) -> np.ndarray:
    """Binary images (n, 8, 8, 1), each one lit quadrant of four (so each pixel is lit with probability 1/4)."""
    quadrant = np.random.default_rng(seed).integers(0, 4, n)
    x = np.zeros((n, 8, 8, 1), dtype="float32")
    for i, q in enumerate(quadrant):
        x[i, 4 * (q // 2):4 * (q // 2) + 4, 4 * (q % 2):4 * (q % 2) + 4] = 1.0
    return x


def numpy_cvae_loss(model: CVAE, x: np.ndarray, eps: np.ndarray) -> float:
    """The tutorial's single-sample ELBO estimate written in NumPy, the networks' outputs taken from the model."""
    mean, logvar = np.split(model.encoder(x).numpy().astype(np.float64), 2, axis=1)
    z = eps * np.exp(logvar * 0.5) + mean
    logits = model.decoder(z.astype("float32")).numpy().astype(np.float64)
    cross_ent = np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))
    logpx_z = -cross_ent.sum(axis=(1, 2, 3))

    def log_normal(s, m, lv):
        return np.sum(-0.5 * ((s - m) ** 2 * np.exp(-lv) + lv + np.log(2 * np.pi)), axis=1)

    return float(-np.mean(logpx_z + log_normal(z, 0.0, 0.0) - log_normal(z, mean, logvar)))


def test_cvae_loss_matches_numpy_and_decreases_with_training():
    tf.random.set_seed(3)
    model, optimizer = CVAE(latent_dim=2), tf.keras.optimizers.Adam(1e-2)
    train_dataset = tf.data.Dataset.from_tensor_slices(binary_images(64)).shuffle(64).batch(16)
    x = binary_images(16, seed=1)

    tf.random.set_seed(7)
    eps = tf.random.normal(shape=(16, 2)).numpy().astype(np.float64)
    tf.random.set_seed(7)
    before = compute_loss(model, x)
    assert before.shape == () and before.dtype == tf.float32
    assert float(before) == pytest.approx(numpy_cvae_loss(model, x, eps), rel=1e-5)

    for _ in range(4):
        for train_x in train_dataset:
            cvae_train_step(model, train_x, optimizer)
    tf.random.set_seed(7)
    after = compute_loss(model, x)
    assert float(after) == pytest.approx(numpy_cvae_loss(model, x, eps), rel=1e-5)
    assert float(after) < 0.9 * float(before)

    samples = model.sample()
    assert samples.shape == (10, 8, 8, 1)
    assert samples.numpy().min() >= 0.0 and samples.numpy().max() <= 1.0


# 4. The DCGAN: two models, two optimizers, two tapes in one block.

def make_generator_model():
    model = tf.keras.Sequential()
    model.add(layers.Dense(2 * 2 * 8, use_bias=False, input_shape=(4,)))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Reshape((2, 2, 8)))
    assert model.output_shape == (None, 2, 2, 8)
    model.add(layers.Conv2DTranspose(4, (3, 3), strides=(1, 1), padding="same", use_bias=False))
    assert model.output_shape == (None, 2, 2, 4)
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Conv2DTranspose(4, (3, 3), strides=(2, 2), padding="same", use_bias=False))
    assert model.output_shape == (None, 4, 4, 4)
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Conv2DTranspose(1, (3, 3), strides=(2, 2), padding="same", use_bias=False, activation="tanh"))
    assert model.output_shape == (None, 8, 8, 1)
    return model


def make_discriminator_model():
    model = tf.keras.Sequential()
    model.add(layers.Conv2D(4, (3, 3), strides=(2, 2), padding="same", input_shape=[8, 8, 1]))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))
    model.add(layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))
    model.add(layers.Flatten())
    model.add(layers.Dense(1))
    return model


cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)


def discriminator_loss(real_output, fake_output):
    real_loss = cross_entropy(tf.ones_like(real_output), real_output)
    fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)
    total_loss = real_loss + fake_loss
    return total_loss


def generator_loss(fake_output):
    return cross_entropy(tf.ones_like(fake_output), fake_output)


def softplus(v: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, v)


def test_dcgan_step_updates_both_models_with_gradients_of_their_shapes():
    tf.random.set_seed(1)
    BATCH_SIZE, noise_dim = 8, 4
    generator, discriminator = make_generator_model(), make_discriminator_model()
    generated_image = generator(tf.random.normal([1, noise_dim]), training=False)
    assert generated_image.shape == (1, 8, 8, 1)
    assert discriminator(generated_image).shape == (1, 1)
    generator_optimizer = tf.keras.optimizers.Adam(1e-4)
    discriminator_optimizer = tf.keras.optimizers.Adam(1e-4)
    images = (binary_images(BATCH_SIZE) - 0.5) / 0.5
    seen = {}

    @tf.function
    def train_step(images):
        noise = tf.random.normal([BATCH_SIZE, noise_dim])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated_images, training=True)
            gen_loss = generator_loss(fake_output)
            disc_loss = discriminator_loss(real_output, fake_output)
        gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        generator_optimizer.apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
        discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator, discriminator.trainable_variables))
        seen.update(real=real_output.numpy(), fake=fake_output.numpy(), gen_loss=float(gen_loss),
                    disc_loss=float(disc_loss), gen_grads=gradients_of_generator,
                    disc_grads=gradients_of_discriminator)

    gen_before, disc_before = generator.get_weights(), discriminator.get_weights()
    for _ in range(2):
        train_step(images)
    real, fake = seen["real"].astype(np.float64), seen["fake"].astype(np.float64)
    assert seen["gen_loss"] == pytest.approx(softplus(-fake).mean(), rel=1e-5)
    assert seen["disc_loss"] == pytest.approx(softplus(-real).mean() + softplus(fake).mean(), rel=1e-5)
    for grads, model in ((seen["gen_grads"], generator), (seen["disc_grads"], discriminator)):
        assert len(grads) == len(model.trainable_variables)
        for g, v in zip(grads, model.trainable_variables):
            assert g.shape == v.shape and np.isfinite(g.numpy()).all() and np.abs(g.numpy()).sum() > 0
    for before, after in ((gen_before, generator.get_weights()), (disc_before, discriminator.get_weights())):
        assert all(not np.array_equal(a, b) for a, b in zip(before, after))  # moving statistics included


# 5. A tf.data input pipeline fed to fit.

def normalize_img(image, label):
    return tf.cast(image, tf.float32) / 255., label


def test_input_pipeline_gives_float_batches_and_fit_trains():
    tf.random.set_seed(2)
    (x_train, y_train), (x_val, y_val) = two_class_images(128), two_class_images(32, seed=1)
    ds_train = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    ds_train = ds_train.map(lambda x, y: (tf.cast(x, tf.float32) / 255., y), num_parallel_calls=tf.data.AUTOTUNE)
    ds_train = ds_train.cache().shuffle(len(x_train)).batch(32).prefetch(tf.data.AUTOTUNE)
    ds_val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).map(normalize_img, num_parallel_calls=tf.data.AUTOTUNE)
    ds_val = ds_val.batch(32).cache().prefetch(tf.data.AUTOTUNE)

    for x, y in ds_train.take(1):
        images, labels = x.numpy(), y.numpy()
    assert images.dtype == np.float32 and images.shape == (32, 8, 8)
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert labels.dtype == np.int64 and labels.shape == (32,)
    assert set(np.round(images.ravel() * 255).astype(int)) <= set(x_train.ravel().tolist())
    spec_x, spec_y = ds_train.element_spec
    assert spec_x.shape.as_list() == [None, 8, 8] and spec_x.dtype == tf.float32 and spec_y.dtype == tf.int64

    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(8, 8)),
        tf.keras.layers.Dense(16, activation="relu"),
        tf.keras.layers.Dense(2),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])
    history = model.fit(ds_train, epochs=6, validation_data=ds_val, verbose=0)
    assert len(history.history["loss"]) == 6 and history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_sparse_categorical_accuracy"][-1] > 0.9
    loss, accuracy = model.evaluate(ds_val, verbose=0)
    assert loss == pytest.approx(history.history["val_loss"][-1], rel=1e-5)
    assert accuracy == pytest.approx(history.history["val_sparse_categorical_accuracy"][-1])


# 6. The basics and autodiff guides.

def test_variable_assign_sub_and_gradient_against_the_closed_form():
    x = tf.Variable(1.0)

    def f(x):
        y = x**2 + 2*x - 5
        return y

    with tf.GradientTape() as tape:
        y = f(x)
    g_x = tape.gradient(y, x)  # g(x) = dy/dx = 2x + 2
    assert float(y) == -2.0 and float(g_x) == 4.0
    x.assign_sub(0.5 * g_x)
    assert float(x) == -1.0 and isinstance(x, tf.Variable)
    x.assign(2.5)
    x.assign_add(0.5)
    assert x.numpy() == 3.0


def test_gradients_of_a_layer_and_of_a_dict_of_variables():
    w = tf.Variable(tf.random.normal((3, 2)), name="w")
    b = tf.Variable(tf.zeros(2, dtype=tf.float32), name="b")
    x = [[1., 2., 3.]]
    with tf.GradientTape(persistent=True) as tape:
        y = x @ w + b
        loss = tf.reduce_mean(y**2)
    [dl_dw, dl_db] = tape.gradient(loss, [w, b])
    y_np = np.array(x) @ w.numpy() + b.numpy()  # d mean(y^2) / dy = y for a (1, 2) y
    np.testing.assert_allclose(dl_dw.numpy(), np.array(x).T @ y_np, rtol=1e-6)
    np.testing.assert_allclose(dl_db.numpy(), y_np[0], rtol=1e-6)
    my_vars = {"w": w, "b": b}
    grad = tape.gradient(loss, my_vars)
    np.testing.assert_array_equal(grad["b"].numpy(), dl_db.numpy())
    del tape

    layer = tf.keras.layers.Dense(2, activation="relu")
    x = tf.constant([[1., 2., 3.]])
    with tf.GradientTape() as tape:
        y = layer(x)
        loss = tf.reduce_mean(y**2)
    grad = tape.gradient(loss, layer.trainable_variables)
    kernel, bias = layer.get_weights()
    y_np = np.maximum(x.numpy() @ kernel + bias, 0)
    np.testing.assert_allclose(grad[0].numpy(), x.numpy().T @ y_np, rtol=1e-6)
    np.testing.assert_allclose(grad[1].numpy(), y_np[0], rtol=1e-6)
    assert [g.shape for g in grad] == [v.shape for v in layer.trainable_variables] == [(3, 2), (2,)]


def test_persistent_tape_watch_and_what_the_tape_sees():
    x = tf.constant([1, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    np.testing.assert_array_equal(tape.gradient(z, x).numpy(), 4 * np.array([1.0, 3.0]) ** 3)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [2.0, 6.0])
    del tape

    x0 = tf.Variable(3.0, name="x0")
    x1 = tf.Variable(3.0, name="x1", trainable=False)  # not trainable: not watched
    x2 = tf.Variable(2.0, name="x2") + 1.0  # a Variable plus a number is a tensor: not watched
    x3 = tf.constant(3.0, name="x3")  # a constant: not watched
    with tf.GradientTape() as tape:
        y = (x0**2) + (x1**2) + (x2**2)
    grad = tape.gradient(y, [x0, x1, x2, x3])
    assert float(grad[0]) == 6.0 and grad[1:] == [None, None, None]

    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y0 = x**2
        y1 = 1 / x
    assert float(tape.gradient({"y0": y0, "y1": y1}, x)) == pytest.approx(2 * 2.0 - 1 / 2.0**2)

    x = tf.constant(1.0)
    v0, v1 = tf.Variable(2.0), tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        result = v0 if x > 0.0 else v1**2  # a Python condition on a tensor picks the branch the tape records
    dv0, dv1 = tape.gradient(result, [v0, v1])
    assert float(dv0) == 1.0 and dv1 is None
    assert tape.gradient(result, x) is None


def test_linear_regression_with_a_manual_sgd_loop_reaches_least_squares():
    tf.random.set_seed(4)
    TRUE_W, TRUE_B, NUM_EXAMPLES = 3.0, 2.0, 201
    x = tf.linspace(-2, 2, NUM_EXAMPLES)
    x = tf.cast(x, tf.float32)

    def f(x):
        return x * TRUE_W + TRUE_B

    noise = tf.random.normal(shape=[NUM_EXAMPLES])
    y = f(x) + noise

    class MyModel:
        def __init__(self):
            self.w = tf.Variable(5.0)
            self.b = tf.Variable(0.0)

        def __call__(self, x):
            return self.w * x + self.b

    def loss(target_y, predicted_y):
        return tf.reduce_mean(tf.square(target_y - predicted_y))

    def train(model, x, y, learning_rate):
        with tf.GradientTape() as t:
            current_loss = loss(y, model(x))
        dw, db = t.gradient(current_loss, [model.w, model.b])
        model.w.assign_sub(learning_rate * dw)
        model.b.assign_sub(learning_rate * db)
        return current_loss

    model = MyModel()
    losses = [float(train(model, x, y, learning_rate=0.1)) for _ in range(150)]
    assert np.all(np.diff(losses) <= 0)  # a convex loss and a small step: it only goes down
    w_ls, b_ls = np.polyfit(x.numpy().astype(np.float64), y.numpy().astype(np.float64), 1)
    assert float(model.w) == pytest.approx(w_ls, abs=1e-4) and float(model.b) == pytest.approx(b_ls, abs=1e-4)
    assert abs(w_ls - TRUE_W) < 0.3 and abs(b_ls - TRUE_B) < 0.3


# 7. Time-series windows.

def test_timeseries_dataset_windows_split_and_train_an_lstm():
    tf.random.set_seed(5)
    t = np.arange(200, dtype=np.float32)
    series = np.stack([np.sin(t / 5), np.cos(t / 7)], axis=-1).astype(np.float32)
    input_width, label_width, shift = 6, 1, 1
    total_window_size = input_width + shift
    input_slice, labels_slice = slice(0, input_width), slice(total_window_size - label_width, None)

    def split_window(features):
        inputs = features[:, input_slice, :]
        labels = features[:, labels_slice, :]
        labels = tf.stack([labels[:, :, 0]], axis=-1)  # label_columns=['sin']
        inputs.set_shape([None, input_width, None])
        labels.set_shape([None, label_width, None])
        return inputs, labels

    def make_dataset(data, shuffle=True):
        data = np.array(data, dtype=np.float32)
        ds = tf.keras.utils.timeseries_dataset_from_array(data=data, targets=None, sequence_length=total_window_size,
                                                          sequence_stride=1, shuffle=shuffle, batch_size=32)
        return ds.map(split_window)

    train, val = make_dataset(series[:150]), make_dataset(series[150:], shuffle=False)
    inputs, labels = next(iter(make_dataset(series[:150], shuffle=False)))
    assert inputs.shape == (32, 6, 2) and labels.shape == (32, 1, 1)
    windows = np.lib.stride_tricks.sliding_window_view(series[:150], total_window_size, axis=0).transpose(0, 2, 1)
    np.testing.assert_array_equal(inputs.numpy(), windows[:32, :input_width])
    np.testing.assert_array_equal(labels.numpy(), windows[:32, input_width:, :1])

    lstm_model = tf.keras.models.Sequential([
        tf.keras.layers.LSTM(8, return_sequences=False),
        tf.keras.layers.Dense(units=1),
        tf.keras.layers.Reshape([1, 1]),
    ])
    early_stopping = tf.keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, mode="min")
    lstm_model.compile(loss=tf.keras.losses.MeanSquaredError(), optimizer=tf.keras.optimizers.Adam(0.02),
                       metrics=[tf.keras.metrics.MeanAbsoluteError()])
    history = lstm_model.fit(train, epochs=8, validation_data=val, callbacks=[early_stopping], verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert "val_mean_absolute_error" in history.history


def test_dataset_window_flat_map_batch_matches_sliding_windows():
    range_ds = tf.data.Dataset.range(20)
    window_size = 5
    windows = range_ds.window(window_size, shift=1, drop_remainder=True)
    windows = windows.flat_map(lambda window: window.batch(window_size))
    got = np.stack([w.numpy() for w in windows])
    np.testing.assert_array_equal(got, np.lib.stride_tricks.sliding_window_view(np.arange(20), window_size))

    def dense_1_step(batch):
        return batch[:-1], batch[1:]  # shift features and labels one step relative to each other

    predict_dense_1_step = range_ds.batch(10, drop_remainder=True).map(dense_1_step)
    for features, label in predict_dense_1_step.take(1):
        np.testing.assert_array_equal(features.numpy(), np.arange(9))
        np.testing.assert_array_equal(label.numpy(), np.arange(1, 10))

    x = np.arange(40, dtype=np.float32) / 40
    ds = tf.data.Dataset.from_tensor_slices(x).window(4, shift=1, drop_remainder=True)
    ds = ds.flat_map(lambda w: w.batch(4)).map(lambda w: (w[:-1], w[-1:])).batch(8)
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer=tf.keras.optimizers.SGD(0.5), loss="mse")
    history = model.fit(ds, epochs=10, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]


# 8. Checkpoints in a custom loop.

def toy_dataset():
    inputs = tf.range(10.)[:, None]
    labels = inputs * 5. + tf.range(5.)[None, :]
    return tf.data.Dataset.from_tensor_slices(dict(x=inputs, y=labels)).repeat().batch(2)


def ckpt_train_step(net, example, optimizer):
    with tf.GradientTape() as tape:
        output = net(example["x"])
        loss = tf.reduce_mean(tf.abs(output - example["y"]))
    variables = net.trainable_variables
    gradients = tape.gradient(loss, variables)
    optimizer.apply_gradients(zip(gradients, variables))
    return loss


class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.l1 = tf.keras.layers.Dense(5)

    def call(self, x):
        return self.l1(x)


def test_checkpoint_manager_round_trip_in_a_custom_loop(tmp_path, capsys):
    tf.random.set_seed(6)
    net, opt = Net(), tf.keras.optimizers.Adam(0.1)
    iterator = iter(toy_dataset())
    ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path / "tf_ckpts"), max_to_keep=3)

    def train_and_checkpoint(net, manager):
        ckpt.restore(manager.latest_checkpoint)
        if manager.latest_checkpoint:
            print(f"Restored from {manager.latest_checkpoint}")
        else:
            print("Initializing from scratch.")
        for _ in range(20):
            example = next(iterator)
            loss = ckpt_train_step(net, example, opt)
            ckpt.step.assign_add(1)
            if int(ckpt.step) % 10 == 0:
                save_path = manager.save()
                saved.update(weights=net.get_weights(), state=opt.get_state())
                print(f"Saved checkpoint for step {int(ckpt.step)}: {save_path}")
                print(f"loss {loss.numpy():1.2f}")

    saved = {}
    train_and_checkpoint(net, manager)
    saved_weights, saved_state = saved["weights"], saved["state"]
    out = capsys.readouterr().out
    assert out.startswith("Initializing from scratch.") and out.count("Saved checkpoint for step") == 2

    for _ in range(5):  # train on past the last save (at step 20, before the loop's 20th step)
        ckpt_train_step(net, next(iterator), opt)
        ckpt.step.assign_add(1)
    assert not all(np.array_equal(a, b) for a, b in zip(saved_weights, net.get_weights()))

    status = ckpt.restore(manager.latest_checkpoint)
    status.assert_consumed()
    assert int(ckpt.step) == 20 and manager.latest_checkpoint.endswith("ckpt-2")
    assert len(manager.checkpoints) == 2
    for a, b in zip(saved_weights, net.get_weights()):
        np.testing.assert_array_equal(a, b)
    restored_state = opt.get_state()
    assert restored_state.keys() == saved_state.keys() and any(key.endswith("/momentum") for key in saved_state)
    for key, value in saved_state.items():
        np.testing.assert_array_equal(restored_state[key], value)

    twin_net, twin_opt = Net(), tf.keras.optimizers.Adam(0.1)  # a fresh process's objects: restored on build
    twin = tf.train.Checkpoint(step=tf.Variable(1), optimizer=twin_opt, net=twin_net)
    manager2 = tf.train.CheckpointManager(twin, str(tmp_path / "tf_ckpts"), max_to_keep=3)
    twin.restore(manager2.latest_checkpoint)
    example = next(iter(toy_dataset()))
    np.testing.assert_array_equal(twin_net(example["x"]).numpy(), net(example["x"]).numpy())
    assert int(twin.step) == 20
    ckpt_train_step(net, example, opt)  # both resume from the same weights and Adam moments
    ckpt_train_step(twin_net, example, twin_opt)
    for a, b in zip(net.get_weights(), twin_net.get_weights()):
        np.testing.assert_array_equal(a, b)
