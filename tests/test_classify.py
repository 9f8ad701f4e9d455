"""rnnbook.classify: the two loaders, collate, the read-outs and the classifier."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from rnnbook.classify import (
    LANGUAGES,
    Pool,
    SequenceClassifier,
    collate,
    load_japanese_vowels,
    load_language_words,
    predict_logits,
)


def sequences(lengths, features=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, features, generator=g) for n in lengths]


# ------------------------------------------------------------------ Japanese Vowels

def test_japanese_vowels_published_split():
    X, y = load_japanese_vowels("train")
    Xt, yt = load_japanese_vowels("test")
    assert len(X) == 270 and len(Xt) == 370
    assert all(x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == 12 for x in X + Xt)
    assert min(len(x) for x in X + Xt) == 7 and max(len(x) for x in X + Xt) == 29
    assert y.dtype == np.int64 and (np.bincount(y) == 30).all()
    assert np.bincount(yt).tolist() == [31, 35, 88, 44, 29, 24, 40, 50, 29]


def test_japanese_vowels_cache_hands_out_copies():
    X, y = load_japanese_vowels("train")
    X[0][:] = 1e6
    y[:] = -1
    X2, y2 = load_japanese_vowels("train")
    assert X2[0].max() < 1e3 and y2.min() == 0


@pytest.mark.parametrize("split", ["TRAIN", "validation", None, 0])
def test_japanese_vowels_bad_split(split):
    with pytest.raises(ValueError, match="split"):
        load_japanese_vowels(split)


# ------------------------------------------------------------------ words

def test_words_drop_rule_leaves_each_word_one_language():
    words, labels = load_language_words(per_language=300)
    assert len(words) == len(set(words)) == len(labels)
    assert labels.dtype == np.int64 and set(labels.tolist()) == set(range(len(LANGUAGES)))
    assert all(w.isalpha() and len(w) >= 3 for w in words)
    assert (np.bincount(labels) < 300).all()          # every list lost its shared words


def test_words_most_frequent_rule_adds_back_the_shared_words_once():
    dropped, _ = load_language_words(per_language=300)
    kept, labels = load_language_words(per_language=300, shared="most_frequent")
    assert set(dropped) < set(kept)
    assert len(kept) == len(set(kept)) == len(labels)
    import wordfreq

    back = sorted(set(kept) - set(dropped))
    assert len(back) > 50                                # shared words come back, once each
    index = dict(zip(kept, labels.tolist(), strict=True))
    for word in back[:20]:                               # ...labelled where most frequent
        freqs = [wordfreq.word_frequency(word, lang) for lang in LANGUAGES]
        assert index[word] == int(np.argmax(freqs))


def test_words_order_and_subset_of_languages():
    words, labels = load_language_words(("fr", "es"), per_language=100, min_length=4)
    assert labels.tolist() == sorted(labels.tolist())   # grouped by language, in order
    assert all(len(w) >= 4 for w in words)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"languages": "en"}, TypeError, "languages"),
    ({"languages": ("en", "xx")}, ValueError, "xx"),
    ({"languages": ("en", "en")}, ValueError, "different"),
    ({"languages": ("en",)}, ValueError, "two"),
    ({"per_language": 0}, ValueError, "per_language"),
    ({"per_language": 2.5}, TypeError, "per_language"),
    ({"min_length": "3"}, TypeError, "min_length"),
    ({"shared": "keep"}, ValueError, "shared"),
])
def test_words_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_language_words(**kwargs)


# ------------------------------------------------------------------ collate

def test_collate_keeps_the_batch_order():
    seqs = sequences([2, 5, 3])
    packed, labels = collate([(s, i) for i, s in enumerate(seqs)])
    assert isinstance(packed, PackedSequence) and labels.tolist() == [0, 1, 2]
    assert labels.dtype == torch.long
    assert packed.batch_sizes.tolist() == [3, 3, 2, 1, 1]
    padded, lengths = pad_packed_sequence(packed, batch_first=True)
    assert lengths.tolist() == [2, 5, 3]
    for i, s in enumerate(seqs):
        assert torch.equal(padded[i, :len(s)], s) and (padded[i, len(s):] == 0).all()


@pytest.mark.parametrize("layer", [nn.GRU, nn.LSTM])
def test_packing_equals_running_each_sequence_alone(layer):
    torch.manual_seed(0)
    rnn = layer(3, 4, batch_first=True, bidirectional=True, num_layers=2)
    seqs = sequences([6, 1, 4, 6, 2])
    packed, _ = collate([(s, 0) for s in seqs])
    with torch.no_grad():
        out, state = rnn(packed)
        h_n = state[0] if isinstance(state, tuple) else state
        padded, _ = pad_packed_sequence(out, batch_first=True)
        for i, s in enumerate(seqs):
            out_i, state_i = rnn(s[None])
            h_i = state_i[0] if isinstance(state_i, tuple) else state_i
            torch.testing.assert_close(padded[i, :len(s)], out_i[0], rtol=0, atol=1e-6)
            torch.testing.assert_close(h_n[:, i], h_i[:, 0], rtol=0, atol=1e-6)


def test_collate_ids_and_numpy():
    packed, labels = collate([(np.array([3, 1, 2]), 1), (np.array([4]), 0)])
    assert packed.data.dtype == torch.long and labels.tolist() == [1, 0]
    packed, _ = collate([(np.zeros((2, 3), dtype=np.float64), 0)])
    assert packed.data.dtype == torch.float32


@pytest.mark.parametrize("batch, error, match", [
    ([], ValueError, "non-empty"),
    ("ab", ValueError, "non-empty"),
    ([torch.zeros(2, 3)], ValueError, "pair"),
    ([(torch.zeros(0, 3), 0)], ValueError, "empty"),
    ([(torch.zeros(2, 3), 0), (torch.zeros(2, 4), 1)], ValueError, "features"),
    ([(torch.zeros(2, 3), 0), (torch.tensor([1, 2]), 1)], ValueError, "features"),
    ([(torch.zeros(3), 0)], TypeError, "integer ids"),
    ([("word", 0)], TypeError, "encode"),
    ([(torch.zeros(2, 3, 4), 0)], ValueError, "shape"),
    ([(torch.tensor([[0.0, float("nan")]]), 0)], ValueError, "NaN"),
    ([(torch.zeros(2, 3), 0.5)], TypeError, "integer class"),
])
def test_collate_bad_input(batch, error, match):
    with pytest.raises(error, match=match):
        collate(batch)


# ------------------------------------------------------------------ Pool

def run_pool(mode, seqs, bidirectional=True, seed=0):
    torch.manual_seed(seed)
    rnn = nn.GRU(3, 4, batch_first=True, bidirectional=bidirectional)
    pool = Pool(mode, 8 if bidirectional else 4)
    packed, _ = collate([(s, 0) for s in seqs])
    out, h_n = rnn(packed)
    return pool, rnn, out, h_n, pool(out, h_n, bidirectional)


def test_pool_last_is_each_direction_after_its_whole_pass():
    seqs = sequences([5, 2, 3])
    _, rnn, out, h_n, pooled = run_pool("last", seqs)
    padded, _ = pad_packed_sequence(out, batch_first=True)
    for i, s in enumerate(seqs):
        torch.testing.assert_close(pooled[i, :4], padded[i, len(s) - 1, :4])   # forward: last
        torch.testing.assert_close(pooled[i, 4:], padded[i, 0, 4:])            # backward: first
    _, _, _, h_uni, pooled_uni = run_pool("last", seqs, bidirectional=False)
    torch.testing.assert_close(pooled_uni, h_uni[-1])


def test_pool_mean_and_max_ignore_padding():
    seqs = sequences([5, 2, 3])
    _, _, out, _, mean = run_pool("mean", seqs)
    _, _, _, _, largest = run_pool("max", seqs)
    padded, _ = pad_packed_sequence(out, batch_first=True)
    for i, s in enumerate(seqs):
        torch.testing.assert_close(mean[i], padded[i, :len(s)].mean(dim=0))
        torch.testing.assert_close(largest[i], padded[i, :len(s)].max(dim=0).values)


def test_pool_max_never_picks_a_padded_zero():
    out = collate([(-torch.ones(3, 2), 0), (-torch.ones(1, 2), 0)])[0]
    pooled = Pool("max", 2)(out, torch.zeros(1, 2, 2), False)
    assert torch.equal(pooled, -torch.ones(2, 2))


def test_pool_attention_weights_and_padding_invariance():
    seqs = sequences([6, 2, 4])
    pool, rnn, out, _, pooled = run_pool("attention", seqs)
    alpha, _ = pool.weights(out)
    torch.testing.assert_close(alpha.sum(dim=1), torch.ones(3))
    for i, s in enumerate(seqs):
        assert (alpha[i, len(s):] == 0).all() and (alpha[i, :len(s)] > 0).all()
        alone, h_alone = rnn(collate([(s, 0)])[0])
        torch.testing.assert_close(pool(alone, h_alone, True)[0], pooled[i], rtol=0,
                                   atol=1e-6)


def test_pool_bad_input():
    with pytest.raises(ValueError, match="mode"):
        Pool("sum", 4)
    with pytest.raises(ValueError, match="size"):
        Pool("mean", 0)
    with pytest.raises(TypeError, match="PackedSequence"):
        Pool("mean", 4)(torch.zeros(2, 3, 4), torch.zeros(1, 2, 4), False)


# ------------------------------------------------------------------ classifier

@pytest.mark.parametrize("kind", ["gru", "lstm"])
@pytest.mark.parametrize("pool", ["last", "mean", "max", "attention"])
def test_classifier_shapes_and_gradients(kind, pool):
    torch.manual_seed(0)
    model = SequenceClassifier(5, input_size=3, hidden_size=6, kind=kind, pool=pool)
    packed, labels = collate([(s, i) for i, s in enumerate(sequences([4, 1, 3]))])
    logits = model(packed)
    assert logits.shape == (3, 5)
    nn.functional.cross_entropy(logits, labels).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_classifier_embeds_packed_ids_and_agrees_with_one_sequence_at_a_time():
    torch.manual_seed(0)
    model = SequenceClassifier(3, vocab_size=10, embedding_size=4, hidden_size=5,
                               kind="lstm", pool="mean").eval()
    words = [torch.tensor([1, 2, 3, 4]), torch.tensor([5]), torch.tensor([9, 0])]
    batch = model(collate([(w, 0) for w in words])[0])
    one_by_one = torch.cat([model(collate([(w, 0)])[0]) for w in words])
    torch.testing.assert_close(batch, one_by_one, rtol=0, atol=1e-6)


def test_classifier_bad_input():
    with pytest.raises(ValueError, match="exactly one"):
        SequenceClassifier(3)
    with pytest.raises(ValueError, match="exactly one"):
        SequenceClassifier(3, input_size=2, vocab_size=5)
    with pytest.raises(ValueError, match="num_classes"):
        SequenceClassifier(1, input_size=2)
    with pytest.raises(ValueError, match="kind"):
        SequenceClassifier(3, input_size=2, kind="rnn")
    with pytest.raises(TypeError, match="bidirectional"):
        SequenceClassifier(3, input_size=2, bidirectional="yes")
    model = SequenceClassifier(3, vocab_size=5)
    with pytest.raises(TypeError, match="PackedSequence"):
        model(torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(TypeError, match="int64 ids"):
        model(collate([(torch.zeros(3, 2), 0)])[0])


def test_predict_logits_in_order_and_mode_restored():
    torch.manual_seed(0)
    model = SequenceClassifier(4, input_size=3, hidden_size=5)
    seqs = sequences([3, 7, 1, 4, 2])
    model.train()
    logits = predict_logits(model, seqs, batch_size=2)
    assert model.training and logits.shape == (5, 4)
    with torch.no_grad():
        model.eval()
        expected = torch.cat([model(collate([(s, 0)])[0]) for s in seqs])
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="non-empty"):
        predict_logits(model, [])
    with pytest.raises(ValueError, match="batch_size"):
        predict_logits(model, seqs, batch_size=0)
