"""rnnbook.models: a recurrent layer with a head, and a character language model."""

import pytest
import torch
from torch import nn

from rnnbook import models, tasks, train
from rnnbook.kinds import KINDS
from rnnbook.seeding import seed_everything
from rnnbook.text import CharVocab, char_batches, lm_loss


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("impl", ["torch", "rnnbook"])
def test_sequence_model_shapes(kind, impl):
    if KINDS[kind].torch_layer is None and impl == "torch":
        with pytest.raises(ValueError, match=f"torch.nn has no layer of kind '{kind}': pass "
                                             f"impl='rnnbook'"):
            models.SequenceModel(kind, 2, 8, 3, impl=impl)
        return
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
    x_val, y_val = tasks.adding_problem(500, 20, seed=123)
    history = train.fit(model, lambda: tasks.adding_problem(64, 20), nn.MSELoss(), steps=400,
                        lr=3e-3, clip_norm=1.0, eval_every=400,
                        evaluate=lambda m: {"mse": nn.functional.mse_loss(m(x_val), y_val)})
    assert history.evals[-1]["mse"] < 0.1 * tasks.ADDING_BASELINE_MSE


def test_char_lm_batches_loss_and_sampling():
    text = "abcabcabcabcabcabcabcabc" * 20
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    batches = char_batches(ids, batch_size=8, seq_len=12,
                                  generator=torch.Generator().manual_seed(0))
    x, y = batches()
    assert x.shape == y.shape == (8, 12)
    assert torch.equal(x[:, 1:], y[:, :-1])
    seed_everything(0)
    lm = models.CharLM(len(vocab), hidden_size=16, kind="gru")
    history = train.fit(lm, batches, lm_loss, steps=150, lr=1e-2)
    assert history.loss[-1] < 0.1 * history.loss[0]       # the pattern is learnable
    sample = lm.sample(vocab, "ab", 30, temperature=0.5,
                       generator=torch.Generator().manual_seed(0))
    assert sample.startswith("ab") and len(sample) == 32 and "cabcabc" in sample
    with pytest.raises(ValueError, match="temperature"):
        lm.sample(vocab, "a", 5, temperature=0)
    with pytest.raises(ValueError, match="int64"):
        lm(torch.zeros(2, 3))


def test_char_lm_checks_its_arguments_and_names_the_right_one():
    with pytest.raises(ValueError, match="hidden_size must be an int >= 1, got 0"):
        models.CharLM(10, hidden_size=0)
    with pytest.raises(ValueError, match="vocab_size must be an int >= 1, got 0"):
        models.CharLM(0)
    with pytest.raises(TypeError, match="embedding_size must be an int, got 2.5"):
        models.CharLM(10, embedding_size=2.5)
    lm = models.CharLM(5, hidden_size=4)
    with pytest.raises(ValueError, match=r"ids must lie in 0..4, the vocabulary of this model, "
                                         r"got 0..7"):
        lm(torch.tensor([[0, 7]]))


def test_char_lm_sample_refuses_a_wrong_vocabulary_and_settings():
    vocab = CharVocab("abcde")
    lm = models.CharLM(len(vocab), hidden_size=4)
    with pytest.raises(ValueError, match="vocab has 3 characters but this model was built for 5"):
        lm.sample(CharVocab("abc"), "a", 5)
    with pytest.raises(TypeError, match="vocab must be the CharVocab the model was trained "
                                        "with, got str"):
        lm.sample("abcde", "a", 5)
    with pytest.raises(ValueError, match="temperature must be > 0, got 0.0"):
        lm.sample(vocab, "a", 5, temperature=0)
    with pytest.raises(ValueError, match="temperature must be a finite number, got inf"):
        lm.sample(vocab, "a", 5, temperature=float("inf"))
    with pytest.raises(ValueError, match="length must be an int >= 0, got -1"):
        lm.sample(vocab, "a", -1)
    with pytest.raises(ValueError, match="prompt must be a non-empty str"):
        lm.sample(vocab, "", 5)
    with pytest.raises(ValueError, match=r"characters not in the vocabulary: \['z'\]"):
        lm.sample(vocab, "az", 5)
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None, got int"):
        lm.sample(vocab, "a", 5, generator=0)
    assert lm.sample(vocab, "ab", 0) == "ab"


def test_sample_restores_the_mode_even_when_it_fails():
    vocab = CharVocab("abcde")
    lm = models.CharLM(len(vocab), hidden_size=4).train()

    class Broken:
        def __len__(self):
            return 5

        def encode(self, text):
            raise RuntimeError("broken vocabulary")

        decode = encode

    with pytest.raises(RuntimeError, match="broken vocabulary"):
        lm.sample(Broken(), "a", 3)
    assert lm.training
    lm.eval()
    lm.sample(vocab, "a", 3)
    assert not lm.training


def test_recurrent_layer_checks_and_accepts_numpy_sizes():
    import numpy as np
    layer = models.recurrent_layer("gru", np.int64(2), np.int64(3), np.int64(2))
    assert isinstance(layer, nn.GRU) and layer.hidden_size == 3 and type(layer.input_size) is int
    with pytest.raises(ValueError, match="forget_bias must be a finite number, got nan"):
        models.recurrent_layer("lstm", 2, 3, forget_bias=float("nan"))
    with pytest.raises(ValueError, match=r"impl must be one of \('torch', 'rnnbook'\), "
                                         r"got 'keras'"):
        models.recurrent_layer("lstm", 2, 3, impl="keras")
    with pytest.raises(ValueError, match="hidden_size must be an int >= 1, got 0"):
        models.recurrent_layer("lstm", 2, 0)


def test_sequence_model_checks_its_arguments():
    with pytest.raises(ValueError, match="squeeze=True needs output_size=1, got 3"):
        models.SequenceModel("gru", 2, 4, 3, squeeze=True)
    with pytest.raises(TypeError, match="every_step must be a bool, got 1"):
        models.SequenceModel("gru", 2, 4, 1, every_step=1)
    with pytest.raises(ValueError, match="output_size must be an int >= 1, got 0"):
        models.SequenceModel("gru", 2, 4, 0)
    model = models.SequenceModel("lstm", 2, 4, 1, impl="rnnbook", proj_size=2,
                                 bidirectional=True)
    assert model.head.in_features == 4 and model(torch.randn(3, 5, 2)).shape == (3, 1)
