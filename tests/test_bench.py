"""rnnbook.bench: the timing helpers and the side-by-side table."""

import subprocess
import sys
import time

import pytest
import torch

from rnnbook import bench


def test_time_it_measures_a_known_sleep():
    timing = bench.time_it(lambda: time.sleep(0.01), warmup=1, repeats=5)
    assert 0.009 < timing.median < 0.2
    assert timing.q1 <= timing.median <= timing.q3 and timing.repeats == 5
    assert "ms" in str(timing)
    with pytest.raises(ValueError, match="repeats"):
        bench.time_it(lambda: None, repeats=0)


def test_forward_backward_fills_gradients():
    layer = torch.nn.GRU(3, 4)
    bench.forward_backward(layer, torch.randn(5, 2, 3))()
    assert all(p.grad is not None for p in layer.parameters())


def test_compare_layers_table(capsys):
    rows = bench.compare_layers(batch=2, steps=5, input_size=3, hidden_size=4, repeats=2)
    assert [r[0] for r in rows] == ["RNN", "LSTM", "GRU", "LSTM (fast)"]
    assert all(r[1].median > 0 and r[2].median > 0 and r[3].median > 0 for r in rows)
    bench.main(["--batch", "2", "--steps", "5", "--input-size", "3", "--hidden-size", "4",
                "--repeats", "2"])
    out = capsys.readouterr().out
    assert "rnnbook/torch.nn" in out and "LSTM" in out
    bench.main(["--batch", "2", "--steps", "5", "--input-size", "3", "--hidden-size", "4",
                "--repeats", "1", "--rounds", "1", "--clock", "cpu"])
    out = capsys.readouterr().out
    assert "cpu clock" in out and "LSTM (fast)" in out
    assert "hand-written backward" in out and "minGRU" in out and "x nn.GRU" in out


def test_compare_ladder_times_every_rung():
    from rnnbook import fast
    timings = bench.compare_ladder(batch=2, steps=4, input_size=3, hidden_size=4, repeats=1,
                                   rounds=1, warmup=0)
    rungs = [n for n in fast.LADDER if n != "C++ backward kernel" or fast.kernels_available()]
    names = list(timings)
    assert names[:-1] == ["nn.LSTM", *rungs, "nn.GRU"] and names[-1].startswith("minGRU")
    assert all(t.median > 0 for t in timings.values())


def test_cpu_clock_counts_work_not_waiting():
    waiting = bench.time_it(lambda: time.sleep(0.02), warmup=0, repeats=3, clock="cpu")
    assert waiting.median < 0.01                      # sleeping uses no CPU

    def work():
        return sum(range(200_000))

    busy = bench.time_it(work, warmup=1, repeats=3, clock="cpu")
    assert busy.median > 0 and busy.q1 <= busy.median <= busy.q3 and busy.repeats == 3
    with pytest.raises(ValueError, match="clock"):
        bench.time_it(work, clock="sundial")


def test_onednn_off_restores_the_setting():
    mkldnn = torch.backends.mkldnn

    def others():
        return mkldnn.deterministic, mkldnn.allow_tf32, mkldnn.fp32_precision

    before, other_flags = mkldnn.enabled, others()
    with bench.onednn_off():
        assert not mkldnn.enabled
        assert others() == other_flags       # only `enabled` is switched
    assert mkldnn.enabled == before and others() == other_flags


def test_onednn_off_works_after_torch_disables_global_flags():
    """torch's test utilities (imported by tests/test_parity.py) call
    torch.backends.disable_global_flags(), after which setting a flag directly raises;
    onednn_off must still work, in a fresh process so this test cannot leak it."""
    code = ("import torch, rnnbook.bench as b\n"
            "torch.backends.disable_global_flags()\n"
            "with b.onednn_off():\n"
            "    assert not torch.backends.mkldnn.enabled\n"
            "assert torch.backends.mkldnn.enabled\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_race_times_every_function_in_turns():
    calls = []
    timings = bench.race({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
                         rounds=2, warmup=1, repeats=2, clock="cpu")
    assert list(timings) == ["a", "b"] and calls == ["a"] * 3 + ["b"] * 3 + ["a"] * 3 + ["b"] * 3
    assert all(t.q1 <= t.median <= t.q3 and t.repeats == 4 for t in timings.values())
