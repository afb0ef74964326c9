"""plot_history and plot_images: the panels, curves, titles and colours they draw, the PNGs they write, and the
error that names the `plot` extra when matplotlib is missing."""

import sys

import numpy as np
import pytest

from shendu.callbacks import History
from shendu.utils import plot_history, plot_images

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def lines_of(ax):
    return {line.get_label(): line.get_ydata().tolist() for line in ax.get_lines()}


def test_history_one_panel_per_metric_with_train_and_validation(matplotlib, tmp_path):
    import matplotlib.pyplot as plt

    history = History()
    history.history = {"loss": [0.9, 0.5, 0.3], "accuracy": [0.7, 0.85, 0.9], "val_loss": [0.6, 0.4, 0.35],
                       "val_accuracy": [0.8, 0.88, 0.89], "learning_rate": [1e-3, 1e-3, 1e-4]}
    before = plt.get_fignums()
    figure = plot_history(history, tmp_path / "history.png")
    assert plt.get_fignums() == before  # written off screen, nothing left open in pyplot
    assert (tmp_path / "history.png").read_bytes()[:8] == PNG_MAGIC
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["loss", "accuracy", "learning_rate"]
    loss, accuracy, lr = visible
    assert lines_of(loss) == {"train": [0.9, 0.5, 0.3], "validation": [0.6, 0.4, 0.35]}
    assert lines_of(accuracy) == {"train": [0.7, 0.85, 0.9], "validation": [0.8, 0.88, 0.89]}
    assert loss.get_lines()[0].get_xdata().tolist() == [1, 2, 3] and loss.get_xlabel() == "epoch"
    assert loss.get_xticks().tolist() == [1, 2, 3]  # whole epochs, even for a short run
    assert lr.get_yscale() == "log" and list(lines_of(lr)) == ["train"] and lr.get_legend() is None
    assert loss.get_legend() is not None


def test_history_from_a_dict_without_validation_and_on_screen(matplotlib):
    import matplotlib.pyplot as plt

    figure = plot_history({"loss": [1.0, 0.5]})
    try:
        assert figure.number in plt.get_fignums()
        assert [ax.get_title() for ax in figure.axes] == ["loss"] and lines_of(figure.axes[0]) == {"train": [1, 0.5]}
    finally:
        plt.close(figure)


def test_history_panels_wrap_after_three(matplotlib):
    logs = {name: [1.0] for name in ("loss", "a", "b", "c", "val_d")}
    figure = plot_history(logs, path=None)
    try:
        visible = [ax for ax in figure.axes if ax.get_visible()]
        assert len(figure.axes) == 6 and [ax.get_title() for ax in visible] == ["loss", "a", "b", "c", "d"]
        assert list(lines_of(visible[-1])) == ["validation"]
    finally:
        import matplotlib.pyplot as plt

        plt.close(figure)


@pytest.mark.parametrize("bad", [{}, None, [0.5, 0.4]])
def test_history_needs_logs(matplotlib, bad):
    with pytest.raises(ValueError, match="plot_history: expected a History or a non-empty dict"):
        plot_history(bad, "unused.png")


def test_images_titles_label_slash_prediction_and_wrong_ones_red(matplotlib, tmp_path):
    from matplotlib.colors import to_rgba

    rng = np.random.default_rng(0)
    images = rng.random((10, 28, 28, 1)).astype("float32")
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    probabilities = np.eye(10)[[0, 1, 2, 3, 4, 5, 6, 7, 8, 1]]  # the last one is wrong
    figure = plot_images(images, labels, probabilities, path=tmp_path / "grid.png", ncols=4)
    assert (tmp_path / "grid.png").read_bytes()[:8] == PNG_MAGIC
    assert len(figure.axes) == 12  # 3 rows of 4; the two spare cells stay empty
    titled = [ax for ax in figure.axes if ax.images]
    assert [ax.title.get_text() for ax in titled] == [f"{i} / {i}" for i in range(9)] + ["9 / 1"]
    colors = [ax.title.get_color() for ax in titled]
    assert to_rgba(colors[-1]) == to_rgba("red") and {to_rgba(c) for c in colors[:-1]} == {to_rgba("black")}
    shown = titled[0].images[0]
    np.testing.assert_allclose(shown.get_array(), images[0, :, :, 0], rtol=1e-6)
    assert shown.get_cmap().name == "gray" and shown.get_clim() == (0.0, 1.0)


def test_images_uint8_rgb_with_class_names_and_keras_shaped_labels(matplotlib, tmp_path):
    images = np.zeros((3, 32, 32, 3), np.uint8)
    images[1, :, :, 0] = 255
    figure = plot_images(images, labels=np.array([[2], [0], [1]]), path=tmp_path / "rgb.png",
                         class_names=["cat", "dog", "ship"])
    assert [ax.title.get_text() for ax in figure.axes] == ["ship", "cat", "dog"]
    np.testing.assert_array_equal(figure.axes[1].images[0].get_array()[0, 0], [1.0, 0.0, 0.0])


def test_images_without_labels_and_0_255_floats(matplotlib, tmp_path):
    figure = plot_images(np.full((2, 5, 5), 127.5), predictions=[3, 4], path=tmp_path / "p.png")
    assert [ax.title.get_text() for ax in figure.axes] == ["3", "4"]
    np.testing.assert_allclose(figure.axes[0].images[0].get_array(), 0.5)
    figure = plot_images(np.zeros((2, 5, 5)), path=tmp_path / "bare.png")
    assert [ax.title.get_text() for ax in figure.axes] == ["", ""]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"images": np.zeros((2, 5, 5, 2))}, r"expected images of shape .* got \(2, 5, 5, 2\)"),
    ({"images": np.zeros((5, 5))}, r"expected images of shape .* got \(5, 5\)"),
    ({"images": np.zeros((0, 5, 5))}, "no images to plot"),
    ({"images": np.zeros((2, 5, 5)), "labels": [1, 2, 3]}, r"labels must be one class per image \(2 images\)"),
    ({"images": np.zeros((2, 5, 5)), "predictions": np.zeros((2, 3, 1))}, r"predictions .* got shape \(2, 3, 1\)"),
])
def test_images_bad_input_is_refused_clearly(matplotlib, tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=f"plot_images: {message}"):
        plot_images(path=tmp_path / "x.png", **kwargs)


def test_missing_matplotlib_names_the_plot_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"plot_history needs matplotlib.*pip install shendu\[plot\]"):
        plot_history({"loss": [1.0]})
    with pytest.raises(ImportError, match=r"plot_images needs matplotlib.*pip install shendu\[plot\]"):
        plot_images(np.zeros((1, 2, 2)))
