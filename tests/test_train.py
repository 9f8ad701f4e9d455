"""rnnbook.train and rnnbook.models: seeding, devices, the training loop, the models."""

import math

import pytest
import torch
from torch import nn

from rnnbook import data, models, train
from rnnbook.seeding import seed_everything


def test_choose_device():
    assert train.choose_device("cpu") == torch.device("cpu")
    assert train.choose_device().type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            train.choose_device("cuda")


def regression_problem():
    torch.manual_seed(0)
    x = torch.randn(256, 3)
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.3
    return x, y


class Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 1)

    def forward(self, x):
        return self.lin(x).squeeze(-1)


def test_fit_learns_and_records_history():
    x, y = regression_problem()
    seed_everything(0)
    model = Linear()
    history = train.fit(model, [(x[:128], y[:128]), (x[128:], y[128:])], nn.MSELoss(),
                        steps=300, lr=0.05,
                        evaluate=lambda m: {"loss": nn.functional.mse_loss(m(x), y)},
                        eval_every=100)
    assert len(history.loss) == len(history.grad_norm) == 300
    assert history.loss[-1] < 1e-3 < history.loss[0]
    steps, values = history.metric("loss")
    assert steps == [100, 200, 300] and values[-1] < 1e-3
    with pytest.raises(KeyError, match="accuracy"):
        history.metric("accuracy")


def test_clipping_by_norm_and_by_value():
    x, y = regression_problem()
    for kwargs in (dict(clip_norm=0.1), dict(clip_value=0.01)):
        model = Linear()
        seen = []
        opt = torch.optim.SGD(model.parameters(), lr=0.0)
        original = opt.step

        def step(*a, _seen=seen, _model=model, _original=original, **k):
            _seen.append(torch.cat([p.grad.flatten() for p in _model.parameters()]))
            return _original(*a, **k)

        opt.step = step
        train.fit(model, [(x, y * 100)], nn.MSELoss(), steps=3, optimizer=opt, **kwargs)
        grads = torch.stack(seen)
        if "clip_norm" in kwargs:
            assert torch.allclose(grads.norm(dim=1), torch.tensor(0.1), atol=1e-6)
        else:
            assert grads.abs().max() <= 0.01 + 1e-7


def test_early_stopping_restores_the_best_weights():
    x, y = regression_problem()
    model = Linear()
    scores = iter([3.0, 1.0, 2.0, 2.5, 2.6, 2.7])
    best = {}

    def evaluate(m):
        score = next(scores)
        if score == 1.0:
            best["state"] = {k: v.clone() for k, v in m.state_dict().items()}
        return {"loss": score}

    history = train.fit(model, [(x, y)], nn.MSELoss(), steps=100, lr=0.01,
                        evaluate=evaluate, eval_every=10, patience=2)
    assert history.stopped_early and len(history.evals) == 4
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, best["state"][k])


@pytest.mark.parametrize("kwargs,match", [
    (dict(steps=0), "steps"),
    (dict(steps=5, clip_norm=1.0, clip_value=1.0), "not both"),
    (dict(steps=5, clip_norm=-1.0), "clip_norm must be positive"),
    (dict(steps=5, patience=3), "needs an evaluate"),
])
def test_fit_rejects_bad_arguments(kwargs, match):
    x, y = regression_problem()
    with pytest.raises(ValueError, match=match):
        train.fit(Linear(), [(x, y)], nn.MSELoss(), **kwargs)


def test_fit_stops_on_nan_loss():
    x, y = regression_problem()
    with pytest.raises(FloatingPointError, match="step 1"):
        train.fit(Linear(), [(x, y * math.nan)], nn.MSELoss(), steps=5)


def test_progress_is_silenced_by_environment(monkeypatch, capsys):
    monkeypatch.setenv("RNNBOOK_QUIET", "1")
    assert list(train.progress(range(3))) == [0, 1, 2]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("kind", models.KINDS)
@pytest.mark.parametrize("impl", ["torch", "rnnbook"])
def test_sequence_model_shapes(kind, impl):
    model = models.SequenceModel(kind, 2, 8, 3, impl=impl)
    assert model(torch.randn(4, 10, 2)).shape == (4, 3)
    every = models.SequenceModel(kind, 2, 8, 3, every_step=True, impl=impl)
    assert every(torch.randn(4, 10, 2)).shape == (4, 10, 3)
    with pytest.raises(ValueError, match="batch, time, features"):
        model(torch.randn(10, 2))


def test_irnn_and_forget_bias_initialisation():
    irnn = models.recurrent_layer("irnn", 2, 5)
    assert torch.equal(irnn.weight_hh_l0, torch.eye(5)) and irnn.nonlinearity == "relu"
    assert torch.all(irnn.bias_hh_l0 == 0)
    lstm = models.recurrent_layer("lstm", 2, 5, forget_bias=1.0)
    total = lstm.bias_ih_l0 + lstm.bias_hh_l0
    torch.testing.assert_close(total[5:10], torch.ones(5))
    with pytest.raises(ValueError, match="LSTM only"):
        models.recurrent_layer("gru", 2, 5, forget_bias=1.0)
    with pytest.raises(ValueError, match="kind must be one of"):
        models.recurrent_layer("transformer", 2, 5)


def test_a_gru_learns_the_adding_problem_at_short_length():
    seed_everything(0)
    model = models.SequenceModel("gru", 2, 32, 1, squeeze=True)
    x_val, y_val = data.adding_problem(500, 20, seed=123)
    history = train.fit(model, lambda: data.adding_problem(64, 20), nn.MSELoss(), steps=400,
                        lr=3e-3, clip_norm=1.0, eval_every=400,
                        evaluate=lambda m: {"mse": nn.functional.mse_loss(m(x_val), y_val)})
    assert history.evals[-1]["mse"] < 0.1 * data.ADDING_BASELINE_MSE


def test_char_lm_batches_loss_and_sampling():
    text = "abcabcabcabcabcabcabcabc" * 20
    vocab = data.CharVocab(text)
    ids = vocab.encode(text)
    batches = models.char_batches(ids, batch_size=8, seq_len=12,
                                  generator=torch.Generator().manual_seed(0))
    x, y = batches()
    assert x.shape == y.shape == (8, 12)
    assert torch.equal(x[:, 1:], y[:, :-1])
    seed_everything(0)
    lm = models.CharLM(len(vocab), hidden_size=16, kind="gru")
    history = train.fit(lm, batches, models.lm_loss, steps=150, lr=1e-2)
    assert history.loss[-1] < 0.1 * history.loss[0]       # the pattern is learnable
    sample = lm.sample(vocab, "ab", 30, temperature=0.5,
                       generator=torch.Generator().manual_seed(0))
    assert sample.startswith("ab") and len(sample) == 32 and "cabcabc" in sample
    with pytest.raises(ValueError, match="temperature"):
        lm.sample(vocab, "a", 5, temperature=0)
    with pytest.raises(ValueError, match="int64"):
        lm(torch.zeros(2, 3))


def test_history_first_step():
    history = train.History(evals=[{"step": 10, "acc": 0.5}, {"step": 20, "acc": 0.99},
                                   {"step": 30, "acc": 1.0}])
    assert history.first_step("acc", at_least=0.99) == 20
    assert history.first_step("acc", at_least=1.0) == 30
    assert history.first_step("acc", at_most=0.4) is None
    assert history.first_step("acc", at_most=0.5) == 10
    with pytest.raises(ValueError, match="exactly one"):
        history.first_step("acc")
