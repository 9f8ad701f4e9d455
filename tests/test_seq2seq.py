"""rnnbook.seq2seq: the date task, the vocabulary, attention, the model, greedy and beam
search."""

import datetime
import itertools
import math

import pytest
import torch
from torch import nn

from rnnbook import seq2seq as s2s
from rnnbook.seq2seq import Vocab

DATE = datetime.date(1994, 3, 3)


F64 = {"dtype": torch.float64}     # double precision, asked for explicitly: no global default

# ---------------------------------------------------------------------------
# The task
# ---------------------------------------------------------------------------


def test_every_format_of_one_date():
    expected = {
        "d MMMM yyyy": "3 March 1994", "dd/mm/yy": "03/03/94",
        "EEEE, MMMM d, yyyy": "Thursday, March 3, 1994", "dth of MMMM yyyy": "3rd of March 1994",
        "yyyy.mm.dd": "1994.03.03", "MMM d, yyyy": "Mar 3, 1994", "dd.mm.yyyy": "03.03.1994",
        "d MMM yy": "3 Mar 94", "yyyymmdd": "19940303", "EEE d MMM yyyy": "Thu 3 Mar 1994",
        "the dth of MMMM, yyyy": "the 3rd of March, 1994", "d MMM yyyy": "3 Mar 1994",
        "dd/mm/yyyy": "03/03/1994", "MMMM dth, yyyy": "March 3rd, 1994",
        "EEEE d MMMM yyyy": "Thursday 3 March 1994",
    }
    assert set(expected) == set(s2s.FORMATS)
    assert not set(s2s.TRAIN_FORMATS) & set(s2s.HELD_OUT_FORMATS)
    for fmt, text in expected.items():
        assert s2s.format_date(DATE, fmt)[0] == text, fmt


@pytest.mark.parametrize("fmt", sorted(s2s.FORMATS))
def test_spans_point_at_the_day_month_and_year(fmt):
    date = datetime.date(2012, 11, 21)                  # a Wednesday, "21st", "Nov"
    text, spans = s2s.format_date(date, fmt)
    assert set(spans) == {"day", "month", "year"}
    pieces = {part: text[a:b] for part, (a, b) in spans.items()}
    assert pieces["day"] in ("21", "21st")
    assert pieces["month"] in ("11", "Nov", "November")
    assert pieces["year"] in ("12", "2012")
    starts = sorted(a for a, _ in spans.values())
    ends = sorted(b for _, b in spans.values())
    assert all(e <= s for e, s in zip(ends, starts[1:], strict=False))   # no overlap


def test_ordinals():
    words = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th",
             21: "21st", 22: "22nd", 23: "23rd", 30: "30th", 31: "31st"}
    for day, word in words.items():
        text, _ = s2s.format_date(datetime.date(2000, 1, day), "dth of MMMM yyyy")
        assert text.startswith(word + " of")


def test_date_pairs_are_right_and_repeat():
    pairs = s2s.date_pairs(3000, s2s.TRAIN_FORMATS, seed=0)
    assert len(pairs) == 3000 and set(pairs.formats) == set(s2s.TRAIN_FORMATS)
    for source, target, fmt in zip(pairs.sources, pairs.targets, pairs.formats, strict=True):
        date = datetime.date.fromisoformat(target)
        assert s2s.FIRST_DATE <= date <= s2s.LAST_DATE
        assert s2s.format_date(date, fmt)[0] == source
        assert set(source) <= set(s2s.SOURCE_CHARS) and set(target) <= set(s2s.TARGET_CHARS)
    again = s2s.date_pairs(3000, s2s.TRAIN_FORMATS, seed=0)
    other = s2s.date_pairs(3000, s2s.TRAIN_FORMATS, seed=1)
    assert again.sources == pairs.sources and other.sources != pairs.sources
    held = s2s.date_pairs(500, s2s.HELD_OUT_FORMATS, seed=0)
    assert set(held.formats) == set(s2s.HELD_OUT_FORMATS)


def test_two_digit_years_are_unambiguous():
    """Every two-digit year stands for one year of the range, so a source has one answer."""
    first, last = s2s.FIRST_DATE.year, s2s.LAST_DATE.year
    assert last - first + 1 == 100
    assert len({year % 100 for year in range(first, last + 1)}) == 100


def test_every_source_has_one_target():
    pairs = s2s.date_pairs(20000, s2s.FORMATS, seed=3)
    seen = {}
    for source, target in zip(pairs.sources, pairs.targets, strict=True):
        assert seen.setdefault(source, target) == target


# ---------------------------------------------------------------------------
# Vocabulary and batches
# ---------------------------------------------------------------------------


def test_vocab_round_trip_and_specials():
    v = Vocab("0123456789-")
    assert len(v) == 14 and (v.PAD, v.BOS, v.EOS) == (0, 1, 2)
    ids = v.encode("1994-03-03", bos=True, eos=True)
    assert ids[0] == v.BOS and ids[-1] == v.EOS and min(ids[1:-1]) >= 3
    assert v.decode(ids) == "1994-03-03"
    assert v.decode([*v.encode("12"), v.EOS, *v.encode("34")]) == "12"   # stops at EOS
    assert v.decode([v.BOS, v.PAD, *v.encode("7"), v.PAD]) == "7"
    assert v.decode(torch.tensor(v.encode("42"))) == "42"


def test_make_batch_shifts_the_target_right():
    src_v, tgt_v = Vocab(s2s.SOURCE_CHARS), Vocab(s2s.TARGET_CHARS)
    (src, tgt_in), target = s2s.make_batch(["3 Mar 94", "19940303", "Mar 3, 1994"],
                                           ["1994-03-03", "1994-03-03", "19"], src_v, tgt_v)
    assert src.shape == (3, 11) and target.shape == (3, 11) == tgt_in.shape
    assert src[0, 8:].eq(Vocab.PAD).all() and src[2].ne(Vocab.PAD).all()
    assert src_v.decode(src[1]) == "19940303"
    assert torch.equal(tgt_in[:, 0], torch.full((3,), Vocab.BOS))
    assert torch.equal(tgt_in[0, 1:], target[0, :-1])
    assert target[0, -1] == Vocab.EOS and target[2, 2] == Vocab.EOS
    assert tgt_in[2, 3:].eq(Vocab.PAD).all() and target[2, 3:].eq(Vocab.PAD).all()


def test_loss_leaves_out_padding():
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 5)
    target = torch.tensor([[3, 4, 2, 0], [3, 2, 0, 0]])
    keep = target != Vocab.PAD
    by_hand = -torch.log_softmax(logits, -1)[keep].gather(1, target[keep][:, None]).mean()
    torch.testing.assert_close(s2s.seq2seq_loss(logits, target), by_hand)


def test_bucket_batches_have_one_length():
    pairs = s2s.date_pairs(2000, s2s.TRAIN_FORMATS, seed=0)
    src_v, tgt_v = Vocab(s2s.SOURCE_CHARS), Vocab(s2s.TARGET_CHARS)
    draw = s2s.bucket_batches(pairs.sources, pairs.targets, src_v, tgt_v, 16, seed=0)
    lengths = set()
    for _ in range(50):
        (src, tgt_in), target = draw()
        assert src.shape[0] == 16 and src.ne(Vocab.PAD).all()
        assert target.shape == tgt_in.shape
        lengths.add(src.shape[1])
    assert len(lengths) > 3


# ---------------------------------------------------------------------------
# Attention
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["additive", "dot"])
def test_attention_shapes_and_weights(kind):
    torch.manual_seed(0)
    att = s2s.Attention(kind, 8, 8)
    q, k = torch.randn(3, 5, 8), torch.randn(3, 7, 8)
    mask = torch.ones(3, 7, dtype=torch.bool)
    mask[1, 4:] = False
    context, weights = att(q, k, mask)
    assert context.shape == (3, 5, 8) and weights.shape == (3, 5, 7)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 5))
    assert (weights >= 0).all() and weights[1, :, 4:].eq(0).all()
    torch.testing.assert_close(context, weights @ k)


def test_attention_scores_by_hand():
    torch.manual_seed(1)
    q, k = torch.randn(2, 3, 4, **F64), torch.randn(2, 6, 5, **F64)
    additive = s2s.Attention("additive", 4, 5, attention_size=7).double()
    by_hand = torch.empty(2, 3, 6, **F64)
    for b, t, j in itertools.product(range(2), range(3), range(6)):
        hidden = torch.tanh(additive.W_q.weight @ q[b, t] + additive.W_k.weight @ k[b, j]
                            + additive.W_k.bias)
        by_hand[b, t, j] = additive.v.weight[0] @ hidden
    torch.testing.assert_close(additive.scores(q, k), by_hand, rtol=0, atol=1e-12)
    k4 = torch.randn(2, 6, 4, **F64)
    dot = s2s.Attention("dot", 4, 4).double()
    by_hand = torch.tensor([[[float(q[b, t] @ k4[b, j]) for j in range(6)] for t in range(3)]
                            for b in range(2)], **F64)
    torch.testing.assert_close(dot.scores(q, k4), by_hand, rtol=0, atol=1e-12)


def test_dot_attention_equals_torch_sdpa_with_gradients():
    """Dot-product attention is torch's scaled_dot_product_attention with scale 1 and the
    keys as values: outputs and gradients agree."""
    torch.manual_seed(2)
    q = torch.randn(3, 4, 6, **F64, requires_grad=True)
    k = torch.randn(3, 9, 6, **F64, requires_grad=True)
    mask = torch.rand(3, 9) > 0.3
    mask[:, 0] = True
    ours, _ = s2s.Attention("dot", 6, 6).double()(q, k, mask)
    theirs = nn.functional.scaled_dot_product_attention(q, k, k, attn_mask=mask[:, None],
                                                        scale=1.0)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-12)
    probe = torch.randn_like(ours)
    g_ours = torch.autograd.grad((ours * probe).sum(), (q, k))
    g_theirs = torch.autograd.grad((theirs * probe).sum(), (q, k))
    for a, b in zip(g_ours, g_theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", ["additive", "dot"])
def test_attention_gradients_by_finite_differences(kind):
    torch.manual_seed(3)
    att = s2s.Attention(kind, 4, 4).double()
    q = torch.randn(2, 3, 4, **F64, requires_grad=True)
    k = torch.randn(2, 5, 4, **F64, requires_grad=True)
    mask = torch.tensor([[True] * 5, [True, True, True, False, False]])
    assert torch.autograd.gradcheck(lambda q, k: att(q, k, mask)[0], (q, k))


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------


def small_model(attention, seed=0):
    torch.manual_seed(seed)
    return s2s.Seq2Seq(12, 9, hidden_size=16, embedding_size=8, attention=attention).eval()


@pytest.mark.parametrize("attention", [None, "additive", "dot"])
def test_model_shapes(attention):
    model = small_model(attention)
    src = torch.randint(3, 12, (4, 7))
    src[1, 5:] = Vocab.PAD
    tgt_in = torch.randint(3, 9, (4, 6))
    assert model((src, tgt_in)).shape == (4, 6, 9)
    h, keys, mask = model.start(src)
    assert h.shape == (4, 16) and keys.shape == (4, 7, 16) and mask.shape == (4, 7)
    logits, state, weights = model.decode(tgt_in, (h, keys, mask))
    assert logits.shape == (4, 6, 9) and state[0].shape == (4, 16)
    assert (weights is None) == (attention is None)
    if weights is not None:
        assert weights.shape == (4, 6, 7) and weights[1, :, 5:].eq(0).all()
        torch.testing.assert_close(weights.sum(-1), torch.ones(4, 6))
    log_probs, _ = model.step(tgt_in[:, 0], (h, keys, mask))
    assert log_probs.shape == (4, 9)
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(4))


@pytest.mark.parametrize("attention", [None, "additive", "dot"])
def test_padding_changes_nothing(attention):
    """A source decodes the same alone and padded in a batch with a longer one: the
    packed encoder never reads the padding, and attention gives it no weight."""
    model = small_model(attention, seed=1)
    short, long = torch.randint(3, 12, (1, 4)), torch.randint(3, 12, (1, 9))
    padded = torch.cat([torch.cat([short, torch.zeros(1, 5, dtype=torch.long)], 1), long])
    tgt_in = torch.randint(3, 9, (2, 5))
    with torch.no_grad():
        alone = model((short, tgt_in[:1]))
        together = model((padded, tgt_in))
    torch.testing.assert_close(alone[0], together[0], rtol=0, atol=1e-6)


@pytest.mark.parametrize("attention", [None, "additive", "dot"])
def test_teacher_forcing_equals_step_by_step(attention):
    """Decoding the whole target at once gives the same logits as feeding it one step at a
    time, so what is trained is what `step` decodes."""
    model = small_model(attention, seed=2)
    src = torch.randint(3, 12, (3, 6))
    tgt_in = torch.randint(3, 9, (3, 5))
    with torch.no_grad():
        at_once = torch.log_softmax(model((src, tgt_in)), -1)
        state, steps = model.start(src), []
        for t in range(5):
            log_probs, state = model.step(tgt_in[:, t], state)
            steps.append(log_probs)
    torch.testing.assert_close(torch.stack(steps, 1), at_once, rtol=0, atol=1e-6)


# ---------------------------------------------------------------------------
# Greedy and beam search
# ---------------------------------------------------------------------------

A, B, C, D = 3, 4, 5, 6          # four ordinary tokens after PAD, BOS, EOS
V = 7


def table_step(table: dict):
    """A hand-made scoring model: the next-token distribution depends on the prefix only,
    looked up in `table` (prefix tuple -> {token: probability}); other prefixes end."""
    def step(tokens, state):
        (prefix,) = state
        prefix = torch.cat([prefix, tokens[:, None]], dim=1)
        rows = []
        for p in prefix.tolist():
            probs = torch.zeros(V)
            for token, prob in table.get(tuple(p[1:]), {Vocab.EOS: 1.0}).items():
                probs[token] = prob
            rows.append(probs.log())
        return torch.stack(rows), (prefix,)
    return step


# Greedy takes A (0.4), then A again (0.28), then ends: 0.112. The best sequence is C then
# the end: 0.25. A beam of width 2 keeps A and B, then prunes the greedy path in favour of
# B's two extensions (0.175 each), whose futures are poor: 0.049. Wider is not always
# better; width 3 keeps C and finds the best.
FLAT = {A: 0.28, B: 0.24, C: 0.24, D: 0.24}
TABLE = {(): {A: 0.4, B: 0.35, C: 0.25}, (A,): FLAT, (B,): {A: 0.5, B: 0.5},
         **{(B, x): FLAT for x in (A, B)}}


def start_state(batch_size=1):
    return (torch.zeros(batch_size, 0, dtype=torch.long),)


def sequence_probability(seq):
    p, prefix = 1.0, ()
    for token in seq:
        p *= TABLE.get(prefix, {Vocab.EOS: 1.0}).get(token, 0.0)
        if token == Vocab.EOS:
            break
        prefix += (token,)
    return p


def brute_force_best(max_len=4):
    best = max((seq for n in range(1, max_len + 1)
                for seq in itertools.product([A, B, C, D, Vocab.EOS], repeat=n)
                if seq[-1] == Vocab.EOS), key=sequence_probability)
    return list(best), sequence_probability(best)


def test_beam_finds_the_best_sequence_where_greedy_does_not():
    best, p_best = brute_force_best()
    assert best == [C, Vocab.EOS] and p_best == pytest.approx(0.25)
    step = table_step(TABLE)
    greedy = s2s.greedy_search(step, start_state(), bos=Vocab.BOS, eos=Vocab.EOS, max_len=5)
    assert greedy[0].tolist() == [A, A, Vocab.EOS, Vocab.EOS, Vocab.EOS]   # padded to max_len
    assert sequence_probability(greedy[0].tolist()) == pytest.approx(0.4 * 0.28)
    tokens, scores = s2s.beam_search(step, start_state(), bos=Vocab.BOS, eos=Vocab.EOS,
                                     max_len=5, width=3)
    assert tokens[0, 0].tolist()[:2] == best
    assert scores[0, 0].item() == pytest.approx(math.log(0.25))


def test_a_wider_beam_can_be_worse():
    step = table_step(TABLE)
    found = {}
    for width in (1, 2, 3):
        tokens, scores = s2s.beam_search(step, start_state(), bos=Vocab.BOS, eos=Vocab.EOS,
                                         max_len=5, width=width)
        found[width] = scores[0, 0].exp().item()
        assert found[width] == pytest.approx(sequence_probability(tokens[0, 0].tolist()))
    assert found[1] == pytest.approx(0.112)
    assert found[2] == pytest.approx(0.35 * 0.5 * 0.28)
    assert found[2] < found[1] < found[3] == pytest.approx(0.25)


def test_beam_scores_are_the_log_probabilities_and_sorted():
    step = table_step(TABLE)
    tokens, scores = s2s.beam_search(step, start_state(2), bos=Vocab.BOS, eos=Vocab.EOS,
                                     max_len=5, width=4)
    assert tokens.shape == (2, 4, 5) and scores.shape == (2, 4)
    assert torch.equal(tokens[0], tokens[1])                  # rows are independent
    assert (scores[:, :-1] >= scores[:, 1:]).all()
    for k in range(4):
        p = sequence_probability(tokens[0, k].tolist())
        assert math.log(p) == pytest.approx(scores[0, k].item())


def test_a_wide_enough_beam_is_exhaustive():
    """With width at least the number of live prefixes, beam search is exact: checked
    against brute force on random tables."""
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        table = {}
        for n in range(3):
            for prefix in itertools.product([A, B], repeat=n):
                probs = torch.rand(3, generator=gen)
                probs = probs / probs.sum()
                table[prefix] = {A: float(probs[0]), B: float(probs[1]),
                                 Vocab.EOS: float(probs[2])}
        table.update({p: {Vocab.EOS: 1.0} for p in itertools.product([A, B], repeat=3)})

        def probability(seq, table=table):
            p, prefix = 1.0, ()
            for token in seq:
                p *= table[prefix].get(token, 0.0)
                if token == Vocab.EOS:
                    return p
                prefix += (token,)
            return 0.0

        best = max((s for n in range(1, 5) for s in itertools.product([A, B, Vocab.EOS],
                                                                      repeat=n)),
                   key=probability)
        tokens, scores = s2s.beam_search(table_step(table), start_state(), bos=Vocab.BOS,
                                         eos=Vocab.EOS, max_len=4, width=8)
        assert scores[0, 0].exp().item() == pytest.approx(probability(best))


@pytest.mark.parametrize("attention", [None, "additive", "dot"])
def test_width_one_is_greedy_on_a_model(attention):
    model = small_model(attention, seed=3)
    src = torch.randint(3, 12, (6, 5))
    src[2, 3:] = Vocab.PAD
    state = model.start(src)
    greedy = s2s.greedy_search(model.step, state, bos=Vocab.BOS, eos=Vocab.EOS, max_len=8)
    beam, _ = s2s.beam_search(model.step, state, bos=Vocab.BOS, eos=Vocab.EOS, max_len=8,
                              width=1)
    assert torch.equal(beam[:, 0], greedy)


def test_translate_greedy_and_beam():
    src_v, tgt_v = Vocab("abc"), Vocab("xy")
    torch.manual_seed(0)
    model = s2s.Seq2Seq(len(src_v), len(tgt_v), hidden_size=8, embedding_size=4,
                        attention="dot")
    out1 = s2s.translate(model, ["abc", "a"], src_v, tgt_v, max_len=6)
    out3 = s2s.translate(model, ["abc", "a"], src_v, tgt_v, max_len=6, width=3)
    assert len(out1) == len(out3) == 2
    assert all(set(o) <= set("xy") and len(o) <= 6 for o in out1 + out3)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("call,error,match", [
    (lambda: s2s.format_date("1994-03-03", "dd/mm/yy"), TypeError, "date must be"),
    (lambda: s2s.format_date(DATE, "mm/dd/yy"), ValueError, "fmt must be one of"),
    (lambda: s2s.date_pairs(0), ValueError, "n must be"),
    (lambda: s2s.date_pairs(5, ["yyyy"]), ValueError, "formats must be one of"),
    (lambda: s2s.date_pairs(5, []), ValueError, "formats must name"),
    (lambda: Vocab(""), ValueError, "chars must be"),
    (lambda: Vocab("abc").encode("abd"), ValueError, "not in the vocabulary"),
    (lambda: Vocab("abc").encode(3), TypeError, "text must be a str"),
    (lambda: Vocab("abc").decode([0, 9]), ValueError, "ids must be ints"),
    (lambda: s2s.pad([]), ValueError, "non-empty"),
    (lambda: s2s.pad([[1], []]), ValueError, "non-empty"),
    (lambda: s2s.make_batch(["a"], ["x", "y"], Vocab("a"), Vocab("xy")), ValueError,
     "same length"),
    (lambda: s2s.bucket_batches([], [], Vocab("a"), Vocab("x"), 4), ValueError, "non-empty"),
    (lambda: s2s.bucket_batches(["a"], ["x"], Vocab("a"), Vocab("x"), 0), ValueError,
     "batch_size must be"),
    (lambda: s2s.seq2seq_loss(torch.zeros(2, 3, 4), torch.zeros(2, 4, dtype=torch.long)),
     ValueError, "logits must be"),
    (lambda: s2s.Attention("concat", 4, 4), ValueError, "kind must be one of"),
    (lambda: s2s.Attention("dot", 4, 5), ValueError, "query_size == key_size"),
    (lambda: s2s.Attention("dot", 0, 0), ValueError, "query_size must be"),
    (lambda: s2s.Attention("dot", 4, 4)(torch.zeros(2, 3, 4), torch.zeros(2, 5, 4),
                                        torch.ones(2, 4, dtype=torch.bool)),
     ValueError, "mask"),
    (lambda: s2s.Seq2Seq(10, 10, attention="luong"), ValueError, "attention must be one of"),
    (lambda: s2s.Seq2Seq(10, 10, hidden_size=2.5), TypeError, "hidden_size must be an int"),
    (lambda: s2s.Seq2Seq(10, 10).start(torch.zeros(2, 3)), ValueError, "src must be int64"),
    (lambda: s2s.Seq2Seq(10, 10).start(torch.tensor([[3, 4], [0, 0]])), ValueError,
     "at least one character"),
    (lambda: s2s.greedy_search(None, [torch.zeros(2)], bos=1, eos=2, max_len=3), TypeError,
     "state must be a tuple"),
    (lambda: s2s.greedy_search(None, (torch.zeros(2),), bos=1, eos=2, max_len=0), ValueError,
     "max_len must be"),
    (lambda: s2s.beam_search(None, (torch.zeros(2),), bos=1, eos=2, max_len=3, width=0),
     ValueError, "width must be"),
    (lambda: s2s.beam_search(None, (torch.zeros(2),), bos=-1, eos=2, max_len=3, width=2),
     ValueError, "bos must be"),
])
def test_bad_input(call, error, match):
    """Bad input raises TypeError or ValueError, naming the argument."""
    with pytest.raises(error, match=match):
        call()
