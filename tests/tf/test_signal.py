"""tf.signal: the transforms against NumPy's FFT, windows, framing and the STFT."""

import numpy as np
import pytest

import shendu as tf
from shendu import gradcheck

rng = np.random.default_rng(2)


def test_rfft_and_irfft():
    x = rng.standard_normal((3, 10)).astype(np.float32)
    X = tf.signal.rfft(x)
    assert X.dtype == np.complex64 and X.shape == (3, 6)
    np.testing.assert_allclose(X.numpy(), np.fft.rfft(x), rtol=1e-5, atol=1e-5)
    assert tf.signal.rfft(x.astype(np.float64)).dtype == np.complex128
    np.testing.assert_allclose(tf.signal.rfft(x, fft_length=[16]).numpy(), np.fft.rfft(x, 16), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(tf.signal.rfft(x, [4]).numpy(), np.fft.rfft(x[:, :4]), rtol=1e-5, atol=1e-6)
    back = tf.signal.irfft(X)
    assert back.dtype == np.float32 and back.shape == (3, 10)
    np.testing.assert_allclose(back.numpy(), x, atol=1e-5)
    assert tf.signal.irfft(X, fft_length=[7]).shape == (3, 7)
    with pytest.raises(ValueError, match=r"rfft: the input must be real"):
        tf.signal.rfft(X)


def test_complex_transforms_and_2d():
    z = (rng.standard_normal((2, 4, 6)) + 1j * rng.standard_normal((2, 4, 6))).astype(np.complex64)
    np.testing.assert_allclose(tf.signal.fft(z).numpy(), np.fft.fft(z), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(tf.signal.ifft(tf.signal.fft(z)).numpy(), z, atol=1e-5)
    np.testing.assert_allclose(tf.signal.fft2d(z).numpy(), np.fft.fft2(z), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(tf.signal.ifft2d(z).numpy(), np.fft.ifft2(z), rtol=1e-4, atol=1e-5)
    assert tf.signal.fft(np.ones(4, np.float32)).dtype == np.complex64  # a real input is taken as complex
    r = rng.standard_normal((3, 4, 6))
    np.testing.assert_allclose(tf.signal.rfft2d(r).numpy(), np.fft.rfft2(r), rtol=1e-10)
    np.testing.assert_allclose(tf.signal.irfft2d(tf.signal.rfft2d(r)).numpy(), r, atol=1e-12)


def test_transforms_are_not_differentiable():
    x = tf.Variable(rng.standard_normal(8))
    spectrum = tf.signal.rfft(x)
    with pytest.raises(NotImplementedError, match=r"tf\.signal\.rfft: the Fourier transforms are not differentiable"):
        spectrum.abs().sum().backward()


def test_windows():
    np.testing.assert_allclose(tf.signal.hann_window(8, periodic=False).numpy(), np.hanning(8), atol=1e-7)
    np.testing.assert_allclose(tf.signal.hann_window(8).numpy(), np.hanning(9)[:-1], atol=1e-7)
    np.testing.assert_allclose(tf.signal.hamming_window(5, periodic=False).numpy(), np.hamming(5), atol=1e-7)
    assert tf.signal.hann_window(1).numpy().tolist() == [1.0]
    assert tf.signal.hann_window(4, dtype=tf.float64).dtype == np.float64


def test_frame():
    x = np.arange(10.0)
    f = tf.signal.frame(x, 4, 3)
    np.testing.assert_array_equal(f.numpy(), [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    padded = tf.signal.frame(x, 4, 3, pad_end=True, pad_value=-1)
    np.testing.assert_array_equal(padded.numpy()[-1], [9, -1, -1, -1])
    assert padded.shape == (4, 4)
    two = np.stack([x, -x], axis=1)  # frames along axis 0 of a (10, 2) signal
    f0 = tf.signal.frame(two, 4, 3, axis=0)
    assert f0.shape == (3, 4, 2)
    np.testing.assert_array_equal(f0.numpy()[..., 1], -f.numpy())
    assert tf.signal.frame(x, 20, 3).shape == (0, 20)
    assert gradcheck(lambda t: (tf.signal.frame(t, 4, 2) ** 2).sum(), [tf.constant(rng.standard_normal((2, 9)))])


def test_stft_as_the_audio_tutorial_calls_it():
    wave = rng.standard_normal(1000).astype(np.float32)
    spec = tf.signal.stft(wave, frame_length=255, frame_step=128)
    assert spec.shape == (6, 129) and spec.dtype == np.complex64
    frames = np.stack([wave[i * 128:i * 128 + 255] for i in range(6)])
    ref = np.fft.rfft(frames * np.hanning(256)[:-1], 256)
    np.testing.assert_allclose(spec.numpy(), ref, rtol=1e-3, atol=1e-3)
    assert tf.signal.stft(wave, 64, 32, fft_length=128, window_fn=None, pad_end=True).shape == (32, 65)
