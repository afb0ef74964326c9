"""Progbar: Keras's line format, averaging of stateless metrics, throttling, verbose modes, per-call cost."""

import io
import re
import sys
import types

import numpy as np
import pytest

from shendu.utils import Progbar
from shendu.utils import progbar as progbar_module

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(progbar_module, "time", types.SimpleNamespace(monotonic=fake.monotonic))
    return fake


def _redirect(monkeypatch, out: io.StringIO) -> io.StringIO:
    """Point the progress bar's sys.stdout at `out` (pytest resets the real sys.stdout between phases)."""
    monkeypatch.setattr(progbar_module, "sys", types.SimpleNamespace(stdout=out, modules=sys.modules))
    return out


@pytest.fixture
def log(monkeypatch):
    return _redirect(monkeypatch, io.StringIO())


@pytest.fixture
def terminal(monkeypatch):
    return _redirect(monkeypatch, Terminal())


def last_line(out: io.StringIO) -> str:
    """The last drawn line, without styles, whether redrawn with \\r or appended with \\n."""
    return ANSI.sub("", re.split(r"[\r\n]", out.getvalue().rstrip("\n"))[-1])


def run_epoch(bar: Progbar, clock: FakeClock, steps: int, step_seconds: float, values_of) -> None:
    for step in range(1, steps + 1):
        clock.now += step_seconds
        bar.update(step, values_of(step))


def test_final_line_matches_keras_format(clock, log):
    bar = Progbar(938, width=20)
    run_epoch(bar, clock, 938, 0.002, lambda s: [("accuracy", 0.9123), ("loss", 0.2931)])
    last = log.getvalue().splitlines()[-1]
    assert last == "938/938 " + "━" * 20 + " 2s 2ms/step - accuracy: 0.9123 - loss: 0.2931"


def test_log_output_is_plain_lines_at_a_low_rate(clock, log):
    bar = Progbar(1000)
    run_epoch(bar, clock, 1000, 0.05, lambda s: None)  # 50 s: a terminal would get 1000 redraws
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and not ANSI.search(log.getvalue())
    assert 2 <= len(lines) <= 50 / progbar_module.NON_INTERACTIVE_INTERVAL + 2
    assert lines[-1].startswith("1000/1000 " + "━" * 20)


def test_terminal_redraws_in_place_with_styles_and_throttling(clock, terminal):
    bar = Progbar(100, width=10, interval=0.05)
    run_epoch(bar, clock, 100, 0.01, lambda s: [("loss", 1.0)])  # 1 s total, 0.05 s interval
    text = terminal.getvalue()
    redraws = text.count("\r")
    assert 15 <= redraws <= 22
    assert text.endswith("\n") and text.count("\n") == 1
    plain = ANSI.sub("", text.split("\r")[-1])
    assert plain.startswith("100/100 " + "━" * 10 + " 1s 10ms/step - loss: 1.0000")
    assert "\x1b[32m" in text  # the done part of the bar is green, as in Keras


def test_half_way_shows_eta_and_partial_bar(clock, terminal):
    bar = Progbar(200, width=10)
    clock.now += 1.0
    bar.update(1)
    clock.now += 99 * 0.5
    bar.update(100)
    line = ANSI.sub("", terminal.getvalue().split("\r")[-1])
    assert line.startswith("100/200 " + "━" * 10 + " 50s 500ms/step")  # ETA = 100 remaining x 0.5 s
    assert "\x1b[32m" + "━" * 5 + "\x1b[0m\x1b[37m" + "━" * 5 in terminal.getvalue()


def test_eta_formats_minutes_and_hours(clock, terminal):
    bar = Progbar(10_000, interval=0)
    clock.now += 1
    bar.update(1)
    clock.now += 2
    bar.update(2)  # 2 s per step after the first, 9998 left
    assert " 5:33:16 2s/step" in last_line(terminal)
    assert progbar_module._format_eta(125) == "2:05"
    assert progbar_module._format_eta(59.7) == "59s"


def test_stateless_values_are_weighted_means_and_stateful_shown_as_is(clock, terminal):
    bar = Progbar(4, stateful_metrics=["lr"], interval=0)
    bar.update(1, [("loss", 4.0), ("lr", 0.1)])
    bar.update(3, [("loss", 1.0), ("lr", 0.05)])  # counts for 2 steps: (4 + 1 * 2) / 3 = 2
    assert last_line(terminal).rstrip().endswith("loss: 2.0000 - lr: 0.0500")
    bar.update(4, [("loss", 0.5), ("lr", 0.01)])  # the final values are taken as given (already averaged)
    assert last_line(terminal).rstrip().endswith("loss: 0.5000 - lr: 0.0100")


def test_small_values_use_scientific_notation_and_arrays_are_averaged(clock, terminal):
    bar = Progbar(2, interval=0)
    bar.update(1, [("tiny", 1e-5), ("vec", np.array([1.0, 3.0]))])
    assert last_line(terminal).endswith("tiny: 1.0000e-05 - vec: 2.0000")


def test_verbose_2_prints_one_summary_line(clock, log):
    bar = Progbar(50, verbose=2)
    run_epoch(bar, clock, 50, 0.1, lambda s: [("loss", 0.25)])
    assert log.getvalue() == "50/50 - 5s - 100ms/step - loss: 0.2500\n"


def test_verbose_0_is_silent_and_bad_verbose_refused(clock, log):
    run_epoch(Progbar(10, verbose=0), clock, 10, 1.0, lambda s: [("loss", 1.0)])
    assert log.getvalue() == ""
    with pytest.raises(ValueError, match="verbose"):
        Progbar(10, verbose=3)


def test_unknown_target_and_add(clock, log):
    bar = Progbar(None, interval=0)
    clock.now += 0.5
    bar.add(3)
    clock.now += 0.5
    bar.add(2, [("loss", 1.0)])
    bar.update(5, finalize=True)
    assert log.getvalue().splitlines()[-1] == "      5/Unknown 1s 200ms/step - loss: 1.0000"  # 1 s / 5 steps
    assert bar._seen_so_far == 5


def test_shorter_redraw_is_padded_over_the_previous_line(clock, terminal):
    bar = Progbar(100, interval=0)
    bar.update(1, [("loss", 123456.0)])
    first = len(ANSI.sub("", terminal.getvalue()).lstrip("\r"))
    bar.update(2, [("loss", -123456.0 * 3)])  # mean 0.0: a shorter number
    second = ANSI.sub("", terminal.getvalue().split("\r")[-1])
    assert len(second) >= first


def test_throttled_updates_format_nothing(clock, log, monkeypatch):
    """Between redraws an update only records its values: no line is formatted or written (the cost per step)."""
    drawn = []
    monkeypatch.setattr(Progbar, "_metrics_text", lambda self: drawn.append(self._seen_so_far) or "")
    bar = Progbar(10**7)
    values = [("accuracy", 0.9), ("loss", 0.3)]
    for step in range(1, 20_001):
        bar.update(step, values)
    assert drawn == [1] and log.getvalue().count("\n") <= 1
    clock.now += progbar_module.NON_INTERACTIVE_INTERVAL
    bar.update(20_001, values)
    assert drawn == [1, 20_001]


def test_a_one_step_epoch_in_a_log_is_one_line(clock, log):
    """The logger's update of the last step (finalize=False) and its finalizing update draw the same step: a log
    file gets it once (a terminal redraws it in place)."""
    bar = Progbar(1)
    clock.now += 0.01
    bar.update(1, [("loss", 9.5)], finalize=False)
    bar.update(1, [("loss", 9.5)], finalize=True)
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("1/1 ") and lines[0].endswith("loss: 9.5000")
