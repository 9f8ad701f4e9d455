"""rnnbook.language: the scanner on hand-made code, Kneser-Ney against hand counts and a
direct implementation, the sampling filters, bits per character, ablation, and the
checkpoint script (it runs, its loss falls, the shipped checkpoint is what it says)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
import torch

import rnnbook
from rnnbook.language import (
    BITS,
    FEATURES,
    KneserNey,
    ablated_losses,
    bits_per_char,
    feature_correlation,
    filter_logits,
    load_checkpoint,
    main,
    sample,
    scan_python,
)

# ---------------------------------------------------------------------------
# The scanner
# ---------------------------------------------------------------------------

def features_of(src: str, name: str) -> str:
    return "".join(str(v) for v in scan_python(src)[name])


def test_scanner_strings_comments_and_brackets_by_hand():
    src = 'f(a, "x(y") # c("\n'
    assert features_of(src, "in_string") == "000001111000000000"
    assert features_of(src, "in_comment") == "000000000000111110"
    assert features_of(src, "bracket_depth") == "011111111100000000"
    assert features_of(src, "line_start") == "000000000000000001"


def test_scanner_escapes_and_the_other_quote():
    src = r'''s = "a\"b'c" + 'd'
'''
    #        s   =   " a \ " b ' c " _ + _ ' d ' \n
    assert features_of(src, "in_string") == "0000" + "1111111" + "0" + "000" + "110" + "0"


def test_scanner_triple_quotes_span_lines():
    src = 'x = """a\n\'b"""\ny\n'
    # the opening quote counts as inside, the closing one not; the newline inside the
    # string is both in the string and a line start
    assert features_of(src, "in_string") == "0000" + "111" + "1" + "1" + "11" + "000" + "000"
    assert features_of(src, "line_start") == "000000001" + "00000" + "1" + "01"


def test_scanner_indentation_and_nested_brackets():
    src = "def f():\n    if [(1,\n        2)]:\n        pass\n"
    f = scan_python(src)
    line2 = src.index("if")
    assert list(f["indent"][9:13]) == [1, 2, 3, 4]            # grows through the spaces
    assert f["indent"][line2 + 1] == 4
    assert f["indent"][src.index("pass")] == 8
    assert f["bracket_depth"][src.index("1")] == 2            # inside [( ... )]
    assert f["bracket_depth"][src.index("2")] == 2            # across a line break
    assert f["bracket_depth"][src.index(":", line2)] == 0
    assert set(f) == set(FEATURES) and all(len(v) == len(src) for v in f.values())


def test_scanner_agrees_with_the_tokenizer_on_the_corpus():
    """On real code, in_string is 1 exactly inside the STRING tokens of Python's tokenizer
    (from the opening quote to the one before the closing quote)."""
    import io
    import tokenize

    src = rnnbook.load_text()[:20000]
    src = src[:src.rindex("\ndef ")]                          # end at a clean boundary
    lines = src.splitlines(keepends=True)
    offsets = np.cumsum([0] + [len(line) for line in lines])
    expected = np.zeros(len(src), dtype=np.int64)
    fstring_start = getattr(tokenize, "FSTRING_START", None)      # Python >= 3.12
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    opened, depth = None, 0
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        start = offsets[tok.start[0] - 1] + tok.start[1]
        end = offsets[tok.end[0] - 1] + tok.end[1]
        if tok.type == fstring_start:
            depth += 1
            opened = (start, tok.string) if depth == 1 else opened
            continue
        if tok.type == fstring_end:
            depth -= 1
            if depth == 0:
                start, text = opened[0], opened[1] + tok.string
            else:
                continue
        elif tok.type == tokenize.STRING and depth == 0:
            text = tok.string
        else:
            continue
        body = text.lstrip("rRbBuUfF")
        prefix = len(text) - len(body)
        close = 3 if body[:3] in ('"""', "'''") else 1
        expected[start + prefix:end - close] = 1
    assert np.array_equal(scan_python(src)["in_string"], expected)


# ---------------------------------------------------------------------------
# Kneser-Ney
# ---------------------------------------------------------------------------

def test_kneser_ney_against_hand_counts():
    # bigrams of 0 1 0 1 0 2: 01 x2, 10 x2, 02 x1 -> D2 = n1/(n1 + 2 n2) = 1/5.
    # Continuations of the unigrams: 1, 0 and 2 follow one symbol each -> D1 = 1, P1 = 1/3.
    kn = KneserNey(order=2).fit([0, 1, 0, 1, 0, 2], vocab_size=3)
    p = kn.probs([[0, 1], [0, 2], [0, 0], [1, 0], [1, 1], [2, 0]])
    d = 0.2
    expected = [(2 - d + d * 2 / 3) / 3, (1 - d + d * 2 / 3) / 3, (d * 2 / 3) / 3,
                (2 - d + d * 1 / 3) / 2, (d * 1 / 3) / 2, 1 / 3]
    np.testing.assert_allclose(p, expected, rtol=1e-12)


def reference_kn(seq, order, V):
    """Interpolated Kneser-Ney written directly from its definition, with dicts."""
    counts = {order: Counter(tuple(seq[i:i + order]) for i in range(len(seq) - order + 1))}
    for k in range(order - 1, 0, -1):
        counts[k] = Counter(g[1:] for g in counts[k + 1])        # distinct left extensions
    discounts = {}
    for k, c in counts.items():
        n1 = sum(v == 1 for v in c.values())
        n2 = sum(v == 2 for v in c.values())
        discounts[k] = n1 / (n1 + 2 * n2) if n1 else 0.5

    def p(gram):
        k = len(gram)
        if k == 0:
            return 1 / V
        lower = p(gram[1:])
        c, h = counts[k], gram[:-1]
        s = sum(v for g, v in c.items() if g[:-1] == h)
        if s == 0:
            return lower
        t = sum(1 for g in c if g[:-1] == h)
        return (max(c.get(gram, 0) - discounts[k], 0) + discounts[k] * t * lower) / s

    return p


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_kneser_ney_equals_its_definition_and_sums_to_one(order):
    rng = np.random.default_rng(order)
    V = 5
    train_ids = rng.choice(V, size=300, p=[0.4, 0.3, 0.15, 0.1, 0.05])
    kn = KneserNey(order).fit(train_ids, V)
    ref = reference_kn(train_ids.tolist(), order, V)
    contexts = ([1] * (order - 1), [0] * (order - 1), rng.integers(0, V, order - 1).tolist(),
                [4] * (order - 1))
    for context in contexts:
        grams = np.array([context + [w] for w in range(V)])
        p = kn.probs(grams)
        np.testing.assert_allclose(p, [ref(tuple(g)) for g in grams.tolist()], rtol=1e-12)
        assert abs(p.sum() - 1) < 1e-12 and (p > 0).all()
    held_out = rng.integers(0, V, 50)
    windows = np.lib.stride_tricks.sliding_window_view(held_out, order)
    expected = -np.mean([math.log(ref(tuple(w))) for w in windows.tolist()])
    assert abs(kn.cross_entropy(held_out) - expected) < 1e-12


def test_kneser_ney_unigram_is_the_continuation_distribution_and_beats_add_alpha():
    text = rnnbook.load_text()
    vocab = rnnbook.CharVocab(text)
    ids = vocab.encode(text).numpy()
    split = int(0.9 * len(ids))
    from rnnbook.baselines import ngram_cross_entropy

    kn3 = KneserNey(3).fit(ids[:split], len(vocab)).cross_entropy(ids[split:])
    add = min(ngram_cross_entropy(ids[:split], ids[split:], len(vocab), 3, a)
              for a in (0.01, 0.1, 1.0))
    assert kn3 < add - 0.05


def test_kneser_ney_refuses_use_before_fit():
    with pytest.raises(ValueError, match="not fitted"):
        KneserNey(2).cross_entropy([0, 1, 2])


# ---------------------------------------------------------------------------
# Sampling filters
# ---------------------------------------------------------------------------

def kept(logits: torch.Tensor) -> list[int]:
    return torch.isfinite(logits).nonzero().flatten().tolist()


def test_top_k_keeps_the_k_largest():
    logits = torch.tensor([0.1, 2.0, -1.0, 1.5, 0.3])
    assert kept(filter_logits(logits, top_k=2)) == [1, 3]
    assert kept(filter_logits(logits, top_k=1)) == [1]
    assert kept(filter_logits(logits, top_k=10)) == [0, 1, 2, 3, 4]
    batch = torch.stack([logits, -logits])
    assert [kept(row) for row in filter_logits(batch, top_k=2)] == [[1, 3], [0, 2]]


def test_top_p_keeps_the_smallest_nucleus():
    probs = torch.tensor([0.15, 0.5, 0.05, 0.3])
    logits = probs.log()
    assert kept(filter_logits(logits, top_p=0.5)) == [1]              # 0.5 reaches 0.5
    assert kept(filter_logits(logits, top_p=0.79)) == [1, 3]          # 0.5 + 0.3
    assert kept(filter_logits(logits, top_p=0.81)) == [0, 1, 3]
    assert kept(filter_logits(logits, top_p=1.0)) == [0, 1, 2, 3]
    assert kept(filter_logits(logits, top_p=1e-9)) == [1]             # always the top one
    kept_probs = torch.softmax(filter_logits(logits, top_p=0.79), -1)
    torch.testing.assert_close(kept_probs, torch.tensor([0, 0.625, 0, 0.375]))


def test_temperature_divides_the_logits_and_comes_before_the_nucleus():
    logits = torch.tensor([1.0, 2.0, 3.0])
    torch.testing.assert_close(filter_logits(logits, temperature=0.5), logits * 2)
    # at a low temperature the top symbol alone holds 0.9 of the mass
    assert kept(filter_logits(logits, temperature=0.2, top_p=0.9)) == [2]
    assert kept(filter_logits(logits, temperature=1.0, top_p=0.9)) == [1, 2]


def small_model(vocab, seed=0):
    rnnbook.seed_everything(seed)
    return rnnbook.CharLM(len(vocab), hidden_size=16, kind="lstm")


def test_sample_reports_the_cross_entropy_under_the_model():
    vocab = rnnbook.CharVocab("abcdef \n")
    model = small_model(vocab)
    texts, nll = sample(model, vocab, ["ab", "cd", "ef"], 30, temperature=0.7, top_k=4,
                        generator=rnnbook.generator(1))
    assert [len(t) for t in texts] == [32] * 3 and [t[:2] for t in texts] == ["ab", "cd", "ef"]
    with torch.no_grad():
        logits, _ = model(torch.stack([vocab.encode(t) for t in texts]))
    logp = torch.log_softmax(logits[:, 1:-1], -1).gather(
        2, torch.stack([vocab.encode(t) for t in texts])[:, 2:, None])[..., 0]
    np.testing.assert_allclose(nll, -logp.mean(1).numpy(), atol=1e-5)
    greedy, _ = sample(model, vocab, "ab", 10, top_k=1)
    again, _ = sample(model, vocab, "ab", 10, top_k=1, generator=rnnbook.generator(5))
    assert greedy == again                                        # top_k=1 is greedy


# ---------------------------------------------------------------------------
# Bits per character, correlation, ablation
# ---------------------------------------------------------------------------

def test_bits_per_char_is_the_lm_loss_in_bits():
    vocab = rnnbook.CharVocab("abcdef \n")
    model = small_model(vocab)
    ids = vocab.encode("abc def\nfed cba\n" * 4)
    with torch.no_grad():
        direct = rnnbook.lm_loss(model(ids[None, :-1]), ids[None, 1:]).item()
    assert abs(bits_per_char(model, ids, streams=1, seq_len=1000) - direct * BITS) < 1e-5
    assert abs(bits_per_char(model, ids, streams=1, seq_len=7) - direct * BITS) < 1e-5
    assert bits_per_char(model, ids, streams=1, seq_len=7, carry_state=False) != \
        pytest.approx(direct * BITS, abs=1e-4)                      # resets change it


def test_feature_correlation_is_pearson():
    rng = np.random.default_rng(0)
    states = rng.normal(size=(100, 3))
    states[:, 2] = 1.0                                             # a unit that never moves
    feature = states[:, 0] * 2 + rng.normal(size=100)
    r = feature_correlation(states, feature)
    np.testing.assert_allclose(r[:2], [np.corrcoef(states[:, j], feature)[0, 1]
                                       for j in range(2)], atol=1e-12)
    assert r[2] == 0


def test_ablated_losses():
    vocab = rnnbook.CharVocab("abcdef \n")
    model = small_model(vocab)
    ids = vocab.encode("abc def\nfed cba\n" * 4)
    plain = ablated_losses(model, ids, streams=1)
    with torch.no_grad():
        logits, _ = model(ids[None, :-1])
    expected = torch.nn.functional.cross_entropy(logits[0], ids[1:], reduction="none")
    np.testing.assert_allclose(plain, expected.numpy(), atol=1e-5)
    # every unit silenced: the read-out sees h = 0 and predicts from its bias alone
    silent = ablated_losses(model, ids, units=range(16), streams=1)
    bias_only = torch.nn.functional.cross_entropy(
        model.head.bias.detach().expand(len(ids) - 1, -1), ids[1:], reduction="none")
    np.testing.assert_allclose(silent, bias_only.numpy(), atol=1e-6)
    partial = ablated_losses(model, ids, units=[3], streams=2)
    assert np.isfinite(partial[:2 * ((len(ids) - 1) // 2)]).all()
    assert not np.allclose(partial[:-1], plain[:-1])


# ---------------------------------------------------------------------------
# The checkpoint script
# ---------------------------------------------------------------------------

def test_the_training_script_runs_and_its_loss_falls(tmp_path):
    out = tmp_path / "lm.pt"
    main(["train", "--steps", "40", "--hidden-size", "32", "--seq-len", "32",
          "--eval-every", "20", "--out", str(out)])
    model, vocab, saved = load_checkpoint(str(out))
    first, last = np.mean(saved["train_loss"][:5]), np.mean(saved["train_loss"][-5:])
    assert last < first - 0.5                                      # nats per character
    assert saved["curve"]["bpc"][-1] < saved["curve"]["bpc"][0]
    assert saved["curve"]["step"] == [20, 40]
    text = rnnbook.load_text()
    val = vocab.encode(text)[saved["settings"]["split"]:]
    assert abs(bits_per_char(model, val) - saved["curve"]["bpc"][-1]) < 1e-5


def test_the_shipped_checkpoint_is_what_its_record_says():
    model, vocab, saved = load_checkpoint()
    text = rnnbook.load_text()
    assert vocab.chars == rnnbook.CharVocab(text).chars
    val = vocab.encode(text)[saved["settings"]["split"]:]
    assert abs(bits_per_char(model, val) - saved["curve"]["bpc"][-1]) < 1e-3
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params * 4 < 3e6                                       # a few MB at most


def test_the_shipped_checkpoint_has_the_hash_its_provenance_records():
    import hashlib
    import re
    from importlib import resources

    folder = resources.files("rnnbook.datasets")
    readme = folder.joinpath("README.md").read_text("utf-8")
    section = readme[readme.index("`char_lstm.pt`"):]
    recorded = re.search(r"SHA-256 `([0-9a-f]{64})`", section).group(1)
    data = folder.joinpath("char_lstm.pt").read_bytes()
    assert hashlib.sha256(data).hexdigest() == recorded
    assert len(data) < 3_000_000
