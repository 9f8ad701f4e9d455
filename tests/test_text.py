"""rnnbook.text: the shipped corpus, the character vocabulary, batches and the LM loss."""

import pytest
import torch

from rnnbook.text import CharVocab, char_batches, lm_loss, load_text, stream_batches


def test_text_corpus_and_vocabulary():
    text = load_text()
    assert len(text) > 200_000 and "def " in text
    vocab = CharVocab(text)
    ids = vocab.encode("def f(x):\n")
    assert ids.dtype == torch.long and vocab.decode(ids) == "def f(x):\n"
    assert vocab.decode(vocab.encode(text[:5000])) == text[:5000]
    with pytest.raises(ValueError, match="not in the vocabulary"):
        CharVocab("abc").encode("abd")
    with pytest.raises(ValueError, match=r"ids must be ints in 0..2, got \[3\]"):
        CharVocab("abc").decode([0, 3])
    with pytest.raises(ValueError, match="unknown corpus"):
        load_text("war_and_peace")


def test_vocabulary_round_trip_and_bad_input():
    vocab = CharVocab("hello world")
    assert len(vocab) == 8 and vocab.chars == sorted(set("hello world"))
    assert repr(vocab) == "CharVocab(8 characters)"
    assert vocab.decode(vocab.encode("low")) == "low"
    assert vocab.decode([]) == "" and vocab.encode("").shape == (0,)
    with pytest.raises(ValueError, match="non-empty str"):
        CharVocab("")
    with pytest.raises(TypeError, match="text must be a str, got list"):
        vocab.encode(["h"])
    with pytest.raises(ValueError, match=r"ids must be ints in 0..7, got \[-1\]"):
        vocab.decode([-1])
    with pytest.raises(ValueError, match=r"ids must be ints in 0..7, got \[1.0\]"):
        vocab.decode([1.0])


def test_char_batches_are_windows_shifted_by_one():
    ids = torch.arange(100)
    batches = char_batches(ids, batch_size=4, seq_len=10,
                           generator=torch.Generator().manual_seed(0))
    x, y = batches()
    assert x.shape == y.shape == (4, 10)
    torch.testing.assert_close(y, x + 1)                  # consecutive ids, shifted by one
    assert torch.all(x[:, 1:] == x[:, :-1] + 1)
    assert int(y.max()) <= 99
    again = char_batches(ids, 4, 10, generator=torch.Generator().manual_seed(0))()
    assert torch.equal(again[0], x)
    with pytest.raises(ValueError, match="longer than seq_len"):
        char_batches(torch.arange(11), 2, 10)
    with pytest.raises(TypeError, match="1-D int64"):
        char_batches(torch.arange(20.0), 2, 5)


def test_stream_batches_continue_each_other_row_by_row():
    ids = torch.arange(103)
    batches = stream_batches(ids, batch_size=4, seq_len=5)
    per_stream = (103 - 1) // 4                           # 25 ids per stream, 5 chunks
    assert len(batches) == per_stream // 5 == 5
    for k, (x, y) in enumerate(batches):
        assert x.shape == y.shape == (4, 5)
        torch.testing.assert_close(y, x + 1)
        if k:
            assert torch.all(x[:, 0] == batches[k - 1][0][:, -1] + 1)   # row b continues row b
    assert torch.equal(batches[0][0][:, 0], torch.arange(4) * per_stream)
    with pytest.raises(ValueError, match=r"cannot fill 4 streams"):
        stream_batches(torch.arange(10), 4, 5)


def test_lm_loss_is_the_mean_cross_entropy_and_checks_shapes():
    logits = torch.randn(2, 3, 5, generator=torch.Generator().manual_seed(0))
    targets = torch.tensor([[0, 1, 2], [3, 4, 0]])
    expected = -torch.log_softmax(logits, -1).gather(-1, targets[..., None]).mean()
    torch.testing.assert_close(lm_loss(logits, targets), expected)
    torch.testing.assert_close(lm_loss((logits, None), targets), expected)   # CharLM's output
    with pytest.raises(ValueError, match=r"targets must be \(batch, time\) = \(2, 3\), .* got "
                                         r"\(3, 2\)"):
        lm_loss(logits, targets.T)                        # (T, B): the wrong pairs, refused
    with pytest.raises(ValueError, match=r"logits must be \(batch, time, vocab\), got \(6, 5\)"):
        lm_loss(logits.reshape(6, 5), targets)


def test_decode_takes_numpy_integers_and_tensors():
    import numpy as np
    vocab = CharVocab("abc")
    assert vocab.decode(np.array([2, 0])) == "ca" == vocab.decode(torch.tensor([2, 0]))
    with pytest.raises(TypeError, match="ids must be a sequence of ints, got str"):
        vocab.decode("ab")
    with pytest.raises(ValueError, match=r"got \[True\]"):
        vocab.decode([True])
