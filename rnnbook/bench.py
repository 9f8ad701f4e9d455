"""Fair timing: warm-up runs, the median of repeats, and device synchronisation.

    python -m rnnbook.bench            # the book's layers against torch.nn, side by side

Timings depend on the machine and on what else it is doing, so the book never compares a
timing to a fixed number; it compares implementations measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from rnnbook.checks import check_choice, check_int

__all__ = ["CLOCKS", "Timing", "compare_ladder", "compare_layers", "forward_backward", "main",
           "onednn_off", "race", "time_it"]


@dataclass
class Timing:
    """Seconds per call: the median and the quartiles of the repeats."""

    median: float
    q1: float
    q3: float
    repeats: int

    def __str__(self) -> str:
        return f"{self.median * 1e3:.2f} ms (IQR {self.q1 * 1e3:.2f}-{self.q3 * 1e3:.2f})"


def _device(device) -> torch.device | None:
    if device is None:
        return None
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must name a device such as 'cpu' or 'cuda', "
                         f"got {device!r}") from None


def _sync(device: torch.device | None) -> None:
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device is not None and device.type == "mps":
        torch.mps.synchronize()


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
"""'wall' is elapsed time, what you feel. 'cpu' is the CPU time of this process: on a machine
shared with other programs it leaves out the waits for a free core, so with one thread
(`torch.set_num_threads(1)`) it is the time of the work itself. It adds up all threads and
does not see work done on a GPU: use it for single-threaded CPU measurements only."""


def time_it(fn: Callable[[], object], *, warmup: int = 3, repeats: int = 10,
            device: torch.device | str | None = None, clock: str = "wall") -> Timing:
    """Time `fn()`: run it `warmup` times untimed, then `repeats` times timed.

    clock: "wall" (elapsed time) or "cpu" (this process's CPU time), see CLOCKS.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function with no arguments, got {type(fn).__name__}")
    repeats, warmup = check_int("repeats", repeats), check_int("warmup", warmup, minimum=0)
    now = CLOCKS[check_choice("clock", clock, CLOCKS)]
    device = _device(device)
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = now()
        fn()
        _sync(device)
        times.append(now() - start)
    q = statistics.quantiles(times, n=4) if repeats > 1 else [times[0]] * 3
    return Timing(statistics.median(times), q[0], q[2], repeats)


def race(runs: dict[str, Callable[[], object]], *, rounds: int = 3, warmup: int = 1,
         repeats: int = 3, device: torch.device | str | None = None,
         clock: str = "wall") -> dict[str, Timing]:
    """Time several functions fairly against each other: they take turns for `rounds`
    rounds of `time_it(warmup=..., repeats=...)`, so that a change in the machine's load
    hits all alike. Returns name -> Timing: the median over rounds of each round's median,
    with the smallest and largest round medians as q1 and q3."""
    if not isinstance(runs, dict) or not runs:
        raise TypeError(f"runs must be a non-empty dict of name -> function, got "
                        f"{type(runs).__name__}")
    for name, fn in runs.items():
        if not callable(fn):
            raise TypeError(f"runs[{name!r}] must be a function with no arguments, got "
                            f"{type(fn).__name__}")
    rounds = check_int("rounds", rounds)
    medians: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            medians[name].append(time_it(fn, warmup=warmup, repeats=repeats, device=device,
                                         clock=clock).median)
    return {name: Timing(statistics.median(m), min(m), max(m), rounds * repeats)
            for name, m in medians.items()}


@contextmanager
def onednn_off() -> Iterator[None]:
    """Switch off PyTorch's oneDNN (mkldnn) CPU kernels inside the block.

    On the CPU, nn.LSTM runs as one fused oneDNN kernel when it can; without it, it runs
    PyTorch's generic path, a loop over time like nn.GRU's and nn.RNN's.
    """
    # torch's own context manager: setting the flag directly is refused once
    # torch.backends.disable_global_flags() has run (torch's test utilities call it).
    # Only `enabled` changes: the other three flags are passed as they are.
    mkldnn = torch.backends.mkldnn
    with mkldnn.flags(enabled=False, deterministic=mkldnn.deterministic,
                      allow_tf32=mkldnn.allow_tf32, fp32_precision=mkldnn.fp32_precision):
        yield


def forward_backward(layer: nn.Module, x: torch.Tensor) -> Callable[[], None]:
    """A function that runs the layer forward and backward once, for `time_it`."""
    if not isinstance(layer, nn.Module):
        raise TypeError(f"layer must be a torch.nn.Module, got {type(layer).__name__}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")

    def run() -> None:
        layer.zero_grad(set_to_none=True)
        output, _ = layer(x)
        output.sum().backward()

    return run


def compare_layers(batch: int = 32, steps: int = 100, input_size: int = 32,
                   hidden_size: int = 128, repeats: int = 10, device: str = "cpu",
                   rounds: int = 3, warmup: int = 3, clock: str = "wall"):
    """Time forward+backward of rnnbook's layers against torch.nn's: the readable RNN, LSTM
    and GRU of rnnbook.layers, and the FastLSTM of rnnbook.fast (row "LSTM (fast)").

    On the CPU, torch.nn runs an LSTM through oneDNN's fused kernel when it can (its RNN
    and GRU never do); the column "oneDNN off" times torch.nn's generic path too, which
    is the fair comparison for a loop written in Python. The implementations take turns
    for `rounds` rounds of `time_it(warmup=..., repeats=..., clock=...)`.

    Returns rows (name, torch Timing, torch-without-oneDNN Timing or None, rnnbook Timing).
    """
    for name, value in (("batch", batch), ("steps", steps), ("input_size", input_size),
                        ("hidden_size", hidden_size), ("repeats", repeats), ("rounds", rounds)):
        check_int(name, value)
    check_int("warmup", warmup, minimum=0)
    check_choice("clock", clock, CLOCKS)
    if _device(device) is None:
        raise ValueError("device must name a device such as 'cpu' or 'cuda', got None")
    from rnnbook import fast, layers

    x = torch.randn(steps, batch, input_size, device=device)
    rows = []
    ours_of = {"RNN": layers.RNN, "LSTM": layers.LSTM, "GRU": layers.GRU,
               "LSTM (fast)": fast.FastLSTM}
    for name, cls in ours_of.items():
        theirs = getattr(nn, name.split()[0])(input_size, hidden_size).to(device)
        ours = cls(input_size, hidden_size).to(device)
        ours.load_state_dict(theirs.state_dict())
        run_theirs = forward_backward(theirs, x)

        def run_generic(run=run_theirs):
            with onednn_off():
                run()

        runs = {"torch": run_theirs, "ours": forward_backward(ours, x)}
        if device == "cpu":
            runs["generic"] = run_generic
        # Interleave the implementations, so that a change in machine load hits all alike.
        timings = race(runs, rounds=rounds, warmup=warmup, repeats=repeats, device=device,
                       clock=clock)
        rows.append((name, timings["torch"], timings.get("generic"), timings["ours"]))
    return rows


def compare_ladder(batch: int = 32, steps: int = 100, input_size: int = 32,
                   hidden_size: int = 128, repeats: int = 10, rounds: int = 3,
                   warmup: int = 3, clock: str = "wall") -> dict[str, Timing]:
    """Time forward+backward of every rung of rnnbook.fast.LADDER against nn.LSTM, and
    minGRU (rnnbook.scan) against nn.GRU, on the CPU, in float32, taking turns (`race`).
    The C++ rung is left out, with a message, where no compiler is found.

    Returns name -> Timing, starting with "nn.LSTM".
    """
    for name, value in (("batch", batch), ("steps", steps), ("input_size", input_size),
                        ("hidden_size", hidden_size), ("repeats", repeats), ("rounds", rounds)):
        check_int(name, value)
    check_int("warmup", warmup, minimum=0)
    check_choice("clock", clock, CLOCKS)
    from rnnbook import fast, scan

    lstm, gru = nn.LSTM(input_size, hidden_size), nn.GRU(input_size, hidden_size)
    x = torch.randn(steps, batch, input_size)
    h0 = c0 = torch.zeros(batch, hidden_size)
    weights = [lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0]
    runs = {"nn.LSTM": forward_backward(lstm, x)}
    for name, rung in fast.LADDER.items():
        if rung is fast.lstm_c_kernel and not fast.kernels_available():
            print("(no C++ compiler found: the C++ rung is left out)")
            continue

        def run(rung=rung):
            for w in weights:
                w.grad = None
            out, _, _ = rung(x, h0, c0, *weights)
            out.sum().backward()

        runs[name] = run
    runs["nn.GRU"] = forward_backward(gru, x)
    min_gru = scan.MinGRU(input_size, hidden_size,
                          scan="kernel" if fast.kernels_available() else "loop")
    runs[f"minGRU ({min_gru.scan} scan)"] = forward_backward(min_gru, x)
    return race(runs, rounds=rounds, warmup=warmup, repeats=repeats, clock=clock)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--input-size", type=int, default=32)
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's own choice)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds in which the implementations take turns")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="wall",
                        help="'cpu' leaves out waits for a core on a shared machine "
                             "(use with --threads 1)")
    args = parser.parse_args(argv)
    for name in ("batch", "steps", "input_size", "hidden_size", "repeats", "rounds"):
        check_int(name, getattr(args, name))
    if args.threads is not None:
        check_int("threads", args.threads)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"forward+backward, B={args.batch} T={args.steps} I={args.input_size} "
          f"H={args.hidden_size}, device={args.device}, threads={torch.get_num_threads()}, "
          f"{args.clock} clock, torch {torch.__version__}")
    print(f"{'layer':<12}{'torch.nn':>12}{'oneDNN off':>12}{'rnnbook':>12}"
          f"{'rnnbook/torch.nn':>18}{'rnnbook/oneDNN off':>20}")
    rows = compare_layers(args.batch, args.steps, args.input_size, args.hidden_size,
                          args.repeats, args.device, rounds=args.rounds, clock=args.clock)
    for name, theirs, generic, ours in rows:
        generic_ms = f"{generic.median * 1e3:9.2f} ms" if generic else f"{'-':>12}"
        generic_ratio = f"{ours.median / generic.median:19.2f}x" if generic else f"{'-':>20}"
        print(f"{name:<12}{theirs.median * 1e3:9.2f} ms{generic_ms}{ours.median * 1e3:9.2f} ms"
              f"{ours.median / theirs.median:17.2f}x{generic_ratio}")
    if args.device != "cpu":
        return
    print("\nthe ladder of rnnbook.fast (each rung equal to nn.LSTM), and minGRU vs nn.GRU")
    ladder = compare_ladder(args.batch, args.steps, args.input_size, args.hidden_size,
                            args.repeats, rounds=args.rounds, clock=args.clock)
    for name, timing in ladder.items():
        against = "nn.GRU" if name.startswith("minGRU") else "nn.LSTM"
        print(f"{name:<28}{timing.median * 1e3:9.2f} ms"
              f"{timing.median / ladder[against].median:9.2f}x {against}")


if __name__ == "__main__":
    main()
