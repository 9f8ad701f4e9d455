"""rnnbook.train: devices, progress bars, History, and fit: what it learns, what it refuses."""

import math

import pytest
import torch
from torch import nn

from rnnbook import train
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
    (dict(steps=5, clip_norm=-1.0), "clip_norm must be > 0, got -1.0"),
    (dict(steps=5, patience=3), "needs an evaluate"),
])
def test_fit_rejects_bad_arguments(kwargs, match):
    x, y = regression_problem()
    with pytest.raises(ValueError, match=match):
        train.fit(Linear(), [(x, y)], nn.MSELoss(), **kwargs)


def test_fit_stops_on_nan_loss():
    x, y = regression_problem()
    with pytest.raises(FloatingPointError, match="step 1"):
        train.fit(Exploding(bad_step=1), [(x, y)], nn.MSELoss(), steps=5)
    # NaN in the data is bad input, not divergence: a ValueError that says where.
    with pytest.raises(ValueError, match="the batch's y contains NaN or infinity at step 1"):
        train.fit(Linear(), [(x, y * math.nan)], nn.MSELoss(), steps=5)


def test_progress_is_silenced_by_environment(monkeypatch, capsys):
    monkeypatch.setenv("RNNBOOK_QUIET", "1")
    assert list(train.progress(range(3))) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def test_history_first_step():
    history = train.History(evals=[{"step": 10, "acc": 0.5}, {"step": 20, "acc": 0.99},
                                   {"step": 30, "acc": 1.0}])
    assert history.first_step("acc", at_least=0.99) == 20
    assert history.first_step("acc", at_least=1.0) == 30
    assert history.first_step("acc", at_most=0.4) is None
    assert history.first_step("acc", at_most=0.5) == 10
    with pytest.raises(ValueError, match="exactly one"):
        history.first_step("acc")


# ---------------------------------------------------------------------------
# What fit refuses, and what it leaves behind when it stops (issue 19)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("loss_fn", [nn.MSELoss(), nn.functional.mse_loss, nn.L1Loss(),
                                     nn.HuberLoss(), nn.functional.l1_loss])
@pytest.mark.parametrize("target_shape", [(256, 1), (1, 256)])
def test_fit_refuses_predictions_and_targets_that_would_broadcast(loss_fn, target_shape):
    """(B,) against (B, 1) broadcasts to (B, B) and trains on the wrong pairs."""
    x, y = regression_problem()
    model = Linear()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"prediction has shape \(256,\) but the target has "
                                         rf"shape \({target_shape[0]}, {target_shape[1]}\)"):
        train.fit(model, [(x, y.reshape(target_shape))], loss_fn, steps=3)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])                    # nothing was applied


def test_fit_leaves_other_losses_their_own_shape_rules():
    x = torch.randn(8, 3)
    model = nn.Linear(3, 4)
    labels = torch.randint(0, 4, (8,))
    history = train.fit(model, [(x, labels)], nn.CrossEntropyLoss(), steps=2)
    assert len(history.loss) == 2


class NanGradient(nn.Module):
    """A finite output whose gradient is NaN: sqrt'(0) * 0."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return (x * torch.sqrt(self.w)).sum(-1) * 0 + x.sum(-1)


def test_fit_stops_before_applying_a_step_with_a_non_finite_gradient():
    x, y = regression_problem()
    model = NanGradient()
    with pytest.raises(FloatingPointError, match=r"the gradient of \['w'\] is not finite at step "
                                                 r"1 .* nothing was applied"):
        train.fit(model, [(x, y)], nn.MSELoss(), steps=5, lr=0.1)
    assert torch.equal(model.w.detach(), torch.zeros(1))


class Exploding(nn.Module):
    """Trains normally, then its output becomes NaN from step `bad_step` on."""

    def __init__(self, bad_step):
        super().__init__()
        self.lin, self.calls, self.bad_step = nn.Linear(3, 1), 0, bad_step

    def forward(self, x):
        if self.training:
            self.calls += 1
        out = self.lin(x).squeeze(-1)
        return out * math.nan if self.training and self.calls >= self.bad_step else out


def test_fit_restores_the_best_weights_and_the_mode_on_an_exception():
    x, y = regression_problem()
    model = Exploding(bad_step=35)
    scores = iter([3.0, 1.0, 2.0])
    best = {}

    def evaluate(m):
        score = next(scores)
        if score == 1.0:
            best["state"] = {k: v.clone() for k, v in m.state_dict().items()}
        return {"loss": score}

    model.eval()
    with pytest.raises(FloatingPointError, match="step 35"):
        train.fit(model, [(x, y)], nn.MSELoss(), steps=100, lr=0.01, evaluate=evaluate,
                  eval_every=10, patience=5)
    assert not model.training                                # back in the mode it came in
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, best["state"][k])      # the best weights, restored


def test_fit_restores_the_mode_when_evaluate_fails():
    x, y = regression_problem()
    model = Linear()

    def evaluate(m):
        assert not m.training                                # evaluation runs in eval mode
        raise ZeroDivisionError("in the reader's metric")

    for mode in (True, False):
        model.train(mode)
        with pytest.raises(ZeroDivisionError, match="reader's metric"):
            train.fit(model, [(x, y)], nn.MSELoss(), steps=3, evaluate=evaluate, eval_every=1)
        assert model.training == mode


def test_fit_returns_the_model_in_the_mode_it_came_in():
    x, y = regression_problem()
    model = Linear().eval()
    train.fit(model, [(x, y)], nn.MSELoss(), steps=2)
    assert not model.training
    train.fit(model.train(), [(x, y)], nn.MSELoss(), steps=2)
    assert model.training


class Frozen(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 1).requires_grad_(False)

    def forward(self, x):
        return self.lin(x)


class Stateless(Linear):
    def forward(self, x, state=None):
        return super().forward(x)


@pytest.mark.parametrize("change, error, match", [
    (dict(eval_every=0, evaluate=lambda m: {}), ValueError,
     "eval_every must be an int >= 1, got 0"),
    (dict(optimizer="adam"), TypeError, "optimizer must be a torch.optim.Optimizer"),
    (dict(batches=None), TypeError, "batches must be an iterable of"),
    (dict(batches=[]), ValueError, "batches yielded nothing"),
    (dict(batches=[torch.zeros(2, 3)]), TypeError,
     r"batches must give \(x, y\) pairs, got a tensor"),
    (dict(batches=[(torch.zeros(2, 3), torch.zeros(2), 1)]), TypeError, r"got a tuple of 3"),
    (dict(batches=[([1.0] * 3, torch.zeros(1))]), TypeError, "but x is 1.0"),
    (dict(model=Frozen()), ValueError, "the model has no trainable parameters"),
    (dict(model="linear"), TypeError, "model must be a torch.nn.Module, got str"),
    (dict(loss_fn="mse"), TypeError, "loss_fn must be callable, got str"),
    (dict(loss_fn=lambda p, t: (p - t) ** 2), ValueError,
     r"loss_fn must return a scalar tensor, got \(256,\)"),
    (dict(loss_fn=lambda p, t: 1.0), ValueError, "loss_fn must return a scalar tensor, got float"),
    (dict(steps=True), TypeError, "steps must be an int, got True"),
    (dict(steps=2.0), TypeError, "steps must be an int, got 2.0"),
    (dict(lr=0.0), ValueError, "lr must be > 0, got 0.0"),
    (dict(lr=float("nan")), ValueError, "lr must be a finite number, got nan"),
    (dict(clip_value=0), ValueError, "clip_value must be > 0, got 0.0"),
    (dict(patience=0, evaluate=lambda m: {"loss": 1.0}), ValueError,
     "patience must be an int >= 1"),
    (dict(patience=1, evaluate=lambda m: {"acc": 1.0}), ValueError,
     r"monitor='loss' is not among the metrics evaluate returned, \['acc'\]"),
    (dict(evaluate=lambda m: 0.5, eval_every=1), TypeError,
     "evaluate must return a dict of metrics, got 0.5"),
    (dict(evaluate="accuracy"), TypeError, "evaluate must be a function"),
    (dict(stateful="yes"), TypeError, "stateful must be a bool, got 'yes'"),
    (dict(stateful=True), TypeError, r"with stateful=True the model is called as model\(x, "
                                     r"state\), but Linear.forward does not take a state"),
    (dict(stateful=True, model=Stateless()), TypeError,
     r"with stateful=True the model must return \(output, state\), got a tensor"),
    (dict(device="gpu"), ValueError, "device must name a device such as 'cpu'"),
    (dict(monitor=3), TypeError, "monitor must be the name of a metric, got int"),
])
def test_fit_refuses_bad_arguments_clearly(change, error, match):
    x, y = regression_problem()
    args = dict(model=Linear(), batches=[(x, y)], loss_fn=nn.MSELoss(), steps=3)
    args.update(change)
    with pytest.raises(error, match=match):
        train.fit(args.pop("model"), args.pop("batches"), args.pop("loss_fn"), **args)


class Carry(nn.Module):
    """A model that adds the mean of its input to a running state, returned detached."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))
        self.seen = []

    def forward(self, x, state):
        self.seen.append(None if state is None else state.clone())
        total = (0 if state is None else state) + x.mean() * self.w
        return total.expand(x.size(0)), total


def test_stateful_fit_carries_the_detached_state_across_batches():
    batches = [(torch.full((2, 3), float(k)), torch.zeros(2)) for k in range(1, 4)]
    model = Carry()
    train.fit(model, batches, nn.MSELoss(), steps=3, lr=1e-9, stateful=True)
    assert model.seen[0] is None
    assert model.seen[1].item() == pytest.approx(1.0) and model.seen[2].item() == pytest.approx(3.0)
    assert not model.seen[1].requires_grad


def test_fit_moves_tuples_of_inputs_to_the_device():
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 1)

        def forward(self, xs):
            a, b = xs
            return self.lin(a + b).squeeze(-1)

    x, y = regression_problem()
    history = train.fit(Pair(), [((x, x), y)], nn.MSELoss(), steps=2, device="cpu")
    assert len(history.loss) == 2


def test_fit_takes_packed_sequences_as_inputs():
    """A PackedSequence is a named tuple: fit must move it whole, not rebuild it as a tuple."""
    from torch.nn.utils.rnn import pack_padded_sequence

    class LastState(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.head = nn.GRU(2, 4, batch_first=True), nn.Linear(4, 1)

        def forward(self, packed):
            _, h_n = self.rnn(packed)
            return self.head(h_n[-1]).squeeze(-1)

    x = torch.randn(3, 5, 2, generator=torch.Generator().manual_seed(0))
    packed = pack_padded_sequence(x, torch.tensor([5, 3, 2]), batch_first=True)
    history = train.fit(LastState(), [(packed, torch.zeros(3))], nn.MSELoss(), steps=3,
                        device="cpu")
    assert len(history.loss) == 3 and all(math.isfinite(v) for v in history.loss)


def test_evaluating_puts_the_mode_back_even_on_an_exception():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    with train.evaluating(model) as device:
        assert not model.training and not model[1].training and device == torch.device("cpu")
    assert model.training and model[1].training
    model.eval()
    with pytest.raises(RuntimeError, match="inside"):
        with train.evaluating(model):
            raise RuntimeError("inside")
    assert not model.training                        # it was in eval mode before
    model.train()
    with pytest.raises(RuntimeError, match="inside"), train.evaluating(model):
        raise RuntimeError("inside")
    assert model.training
    with train.evaluating(nn.ReLU()) as device:      # no parameters: the CPU
        assert device == torch.device("cpu")
