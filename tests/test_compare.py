"""rnnbook.compare: parameter formulas against numel, matched sizes, FLOP counts."""

import itertools

import pytest
from torch import nn

import rnnbook
from rnnbook.compare import (
    matched_hidden_size,
    matmul_flops_per_step,
    num_parameters,
    param_count,
)
from rnnbook.models import CharLM, SequenceModel

TORCH = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


@pytest.mark.parametrize("kind,layers,bidirectional,bias",
                         list(itertools.product(TORCH, [1, 2, 3], [False, True], [False, True])))
def test_param_count_equals_numel(kind, layers, bidirectional, bias):
    for i, h in [(1, 1), (3, 7), (10, 32)]:
        layer = TORCH[kind](i, h, layers, bidirectional=bidirectional, bias=bias)
        expected = param_count(kind, i, h, layers, bidirectional, biases=2 if bias else 0)
        assert num_parameters(layer) == expected
        ours = getattr(rnnbook, kind.upper())(i, h, layers, bidirectional=bidirectional,
                                             bias=bias)
        assert num_parameters(ours) == expected


def test_single_bias_count():
    assert param_count("lstm", 3, 5, biases=1) == 4 * (5 * 3 + 25 + 5)
    assert param_count("lstm", 3, 5, biases=2) - param_count("lstm", 3, 5, biases=1) == 20


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        param_count("transformer", 3, 5)
    with pytest.raises(ValueError, match="hidden_size"):
        param_count("lstm", 3, 0)
    with pytest.raises(ValueError, match="biases"):
        param_count("lstm", 3, 5, biases=3)
    with pytest.raises(ValueError, match="target"):
        matched_hidden_size(lambda h: nn.Linear(h, 1), 0)
    with pytest.raises(ValueError, match="max_hidden"):
        matched_hidden_size(lambda h: nn.Linear(h, 1), 10**9, max_hidden=8)


def test_num_parameters_skips_frozen():
    layer = nn.Linear(3, 2)
    layer.bias.requires_grad_(False)
    assert num_parameters(layer) == 6


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_matched_hidden_size_is_closest(kind):
    target = 5_000
    build = lambda h: SequenceModel(kind, 8, h, 4)  # noqa: E731
    h = matched_hidden_size(build, target)
    best = abs(num_parameters(build(h)) - target)
    for other in (h - 1, h + 1):
        assert best <= abs(num_parameters(build(other)) - target)


def test_matched_hidden_size_for_a_language_model():
    build = lambda h: CharLM(80, h, kind="gru")  # noqa: E731
    h = matched_hidden_size(build, num_parameters(CharLM(80, 96, kind="lstm")))
    assert h > 96  # a GRU needs more units than an LSTM for the same budget


def test_flops():
    assert matmul_flops_per_step("lstm", 32, 128) == 2 * 4 * 128 * (32 + 128)
    assert 4 * matmul_flops_per_step("gru", 7, 9, batch=3) == \
        3 * matmul_flops_per_step("lstm", 7, 9, batch=3)
    assert matmul_flops_per_step("rnn", 1, 1, batch=2) == 8


@pytest.mark.parametrize("target", [1, 5, 6, 100, 82_944, 100_000])
def test_matched_hidden_size_equals_brute_force(target):
    for kind, layer in TORCH.items():
        h = matched_hidden_size(lambda h, layer=layer: layer(32, h), target)
        best = min(range(1, 400), key=lambda h: (abs(param_count(kind, 32, h) - target), h))
        assert h == best
