"""Sequence to sequence: a date-translation task, an encoder-decoder GRU with attention,
and greedy and beam decoding.

    train = date_pairs(20_000, TRAIN_FORMATS, seed=1)   # "3rd of March 1994" -> "1994-03-03"
    src_vocab, tgt_vocab = Vocab(SOURCE_CHARS), Vocab(TARGET_CHARS)
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), hidden_size=64, attention="additive")
    batches = bucket_batches(train.sources, train.targets, src_vocab, tgt_vocab, 32, seed=2)
    fit(model, batches, seq2seq_loss, steps=200, lr=1e-2, clip_norm=1.0)  # teacher forcing
    translate(model, ["Thu 3 Mar 1994"], src_vocab, tgt_vocab)           # free running
    translate(model, ["Thu 3 Mar 1994"], src_vocab, tgt_vocab, width=3)  # beam search

The encoder reads the source characters with a GRU. The decoder is a second GRU that
starts from the encoder's last state and emits the target one character at a time,
reading at every step a context vector: the encoder's last state without attention (as in
Cho et al. 2014), or, with `attention`, an average of all the encoder's states weighted by
an additive (Bahdanau, Cho & Bengio 2015) or dot-product (Luong, Pham & Manning 2015) score.

`greedy_search` and `beam_search` work with any model that offers a `step` function
(last tokens, state) -> (log-probabilities, state), so the tests can check them on a
hand-made scoring model whose best sequence is known.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from rnnbook.checks import check_choice, check_int
from rnnbook.seeding import generator

__all__ = [
    "FIRST_DATE", "LAST_DATE", "TRAIN_FORMATS", "HELD_OUT_FORMATS", "FORMATS",
    "SOURCE_CHARS", "TARGET_CHARS", "DatePairs", "format_date", "date_pairs", "Vocab", "pad",
    "make_batch", "bucket_batches", "seq2seq_loss", "Attention", "Seq2Seq", "greedy_search",
    "beam_search", "translate",
]

# ---------------------------------------------------------------------------
# The task: dates in many formats -> ISO 8601
# ---------------------------------------------------------------------------

FIRST_DATE, LAST_DATE = datetime.date(1950, 1, 1), datetime.date(2049, 12, 31)
"""Dates are drawn uniformly from this range. A two-digit year is then unambiguous:
50-99 are 1950-1999, 00-49 are 2000-2049."""

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

TRAIN_FORMATS = {
    "d MMMM yyyy": "{d} {MMMM} {yyyy}",                # 3 March 1994
    "dd/mm/yy": "{dd}/{mm}/{yy}",                      # 03/03/94
    "EEEE, MMMM d, yyyy": "{EEEE}, {MMMM} {d}, {yyyy}",  # Thursday, March 3, 1994
    "dth of MMMM yyyy": "{dth} of {MMMM} {yyyy}",      # 3rd of March 1994
    "yyyy.mm.dd": "{yyyy}.{mm}.{dd}",                  # 1994.03.03
    "MMM d, yyyy": "{MMM} {d}, {yyyy}",                # Mar 3, 1994
    "dd.mm.yyyy": "{dd}.{mm}.{yyyy}",                  # 03.03.1994
    "d MMM yy": "{d} {MMM} {yy}",                      # 3 Mar 94
    "yyyymmdd": "{yyyy}{mm}{dd}",                      # 19940303
    "EEE d MMM yyyy": "{EEE} {d} {MMM} {yyyy}",        # Thu 3 Mar 1994
    "the dth of MMMM, yyyy": "the {dth} of {MMMM}, {yyyy}",  # the 3rd of March, 1994
}
"""The formats training sees, by name: a template whose fields are filled from a date."""

HELD_OUT_FORMATS = {
    "d MMM yyyy": "{d} {MMM} {yyyy}",                  # 3 Mar 1994
    "dd/mm/yyyy": "{dd}/{mm}/{yyyy}",                  # 03/03/1994
    "MMMM dth, yyyy": "{MMMM} {dth}, {yyyy}",          # March 3rd, 1994
    "EEEE d MMMM yyyy": "{EEEE} {d} {MMMM} {yyyy}",    # Thursday 3 March 1994
}
"""Formats training never sees. Each is made of pieces that training formats use, put
together in a new way: a test of whether the model learned the pieces or the formats."""

FORMATS = {**TRAIN_FORMATS, **HELD_OUT_FORMATS}

FIELD_PART = {"d": "day", "dd": "day", "dth": "day", "mm": "month", "MMM": "month",
              "MMMM": "month", "yy": "year", "yyyy": "year", "EEE": None, "EEEE": None}
"""Which part of the date each template field shows (the weekday shows none)."""

SOURCE_CHARS = "".join(sorted(set("".join(MONTHS + WEEKDAYS) + "0123456789 ,./ofthndrs")))
"""Every character a source can contain."""
TARGET_CHARS = "0123456789-"
"""Every character a target (yyyy-mm-dd) can contain."""


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _fields(date: datetime.date) -> dict[str, str]:
    month, weekday = MONTHS[date.month - 1], WEEKDAYS[date.weekday()]
    return {"d": str(date.day), "dd": f"{date.day:02d}", "dth": _ordinal(date.day),
            "mm": f"{date.month:02d}", "MMM": month[:3], "MMMM": month,
            "yy": f"{date.year % 100:02d}", "yyyy": str(date.year),
            "EEE": weekday[:3], "EEEE": weekday}


def format_date(date: datetime.date, fmt: str) -> tuple[str, dict[str, tuple[int, int]]]:
    """Write `date` in format `fmt` (a name in FORMATS). Returns the text and where the
    day, month and year stand in it, as (start, end) character spans."""
    if not isinstance(date, datetime.date):
        raise TypeError(f"date must be a datetime.date, got {type(date).__name__}")
    check_choice("fmt", fmt, FORMATS)
    values, text, spans = _fields(date), "", {}
    for literal, name in _template_parts(FORMATS[fmt]):
        text += literal
        if name is not None:
            if FIELD_PART[name] is not None:
                spans[FIELD_PART[name]] = (len(text), len(text) + len(values[name]))
            text += values[name]
    return text, spans


def _template_parts(template: str) -> list[tuple[str, str | None]]:
    """'{d} of {MMMM}' -> [('', 'd'), (' of ', 'MMMM')]: literal text, then a field."""
    parts, rest = [], template
    while "{" in rest:
        literal, rest = rest.split("{", 1)
        name, rest = rest.split("}", 1)
        parts.append((literal, name))
    parts.append((rest, None))
    return parts


@dataclass
class DatePairs:
    """Source texts, their ISO targets, the format of each, and where the day, month and
    year stand in each source (spans, for checking attention)."""

    sources: list[str]
    targets: list[str]
    formats: list[str]
    spans: list[dict[str, tuple[int, int]]] = field(repr=False)

    def __len__(self) -> int:
        return len(self.sources)


def date_pairs(n: int, formats: Sequence[str] | dict = TRAIN_FORMATS,
               seed: int | None = None) -> DatePairs:
    """`n` random dates from FIRST_DATE to LAST_DATE, each written in a format drawn
    uniformly from `formats` (names in FORMATS), with its ISO form yyyy-mm-dd as target."""
    check_int("n", n)
    formats = list(formats)
    if not formats:
        raise ValueError("formats must name at least one format")
    for fmt in formats:
        check_choice("formats", fmt, FORMATS)
    g = generator(seed)
    span = (LAST_DATE - FIRST_DATE).days + 1
    days = torch.randint(0, span, (n,), generator=g).tolist()
    which = torch.randint(0, len(formats), (n,), generator=g).tolist()
    pairs = DatePairs([], [], [], [])
    for day, k in zip(days, which, strict=True):
        date = FIRST_DATE + datetime.timedelta(days=day)
        text, spans = format_date(date, formats[k])
        pairs.sources.append(text)
        pairs.targets.append(date.isoformat())
        pairs.formats.append(formats[k])
        pairs.spans.append(spans)
    return pairs


# ---------------------------------------------------------------------------
# Characters to ids, with the special tokens a seq2seq model needs
# ---------------------------------------------------------------------------


class Vocab:
    """Characters to ids and back, with three special tokens at ids 0, 1, 2:

    - PAD fills batches of sequences of different lengths up to the longest,
    - BOS (begin) is the decoder's first input, before it has produced anything,
    - EOS (end) is the decoder's last output: it says the translation is complete.

    `rnnbook.CharVocab` has none of these (its ids start with the first character), which
    is all a language model over one stream of text needs.
    """

    PAD, BOS, EOS = 0, 1, 2
    SPECIALS = ("<pad>", "<s>", "</s>")

    def __init__(self, chars: str) -> None:
        if not isinstance(chars, str) or not chars:
            raise ValueError("chars must be a non-empty str of the characters to encode")
        self.tokens = [*self.SPECIALS, *sorted(set(chars))]
        self.index = {tok: i for i, tok in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str, *, bos: bool = False, eos: bool = False) -> list[int]:
        """The ids of `text`'s characters, optionally after BOS and before EOS."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        unknown = sorted(set(text) - set(self.tokens[len(self.SPECIALS):]))
        if unknown:
            raise ValueError(f"text has characters not in the vocabulary: {unknown[:10]!r}")
        return [self.BOS] * bos + [self.index[ch] for ch in text] + [self.EOS] * eos

    def decode(self, ids) -> str:
        """The text of `ids` up to the first EOS, skipping PAD and BOS."""
        ids = ids.tolist() if isinstance(ids, Tensor) else list(ids)
        bad = [i for i in ids if not (isinstance(i, int) and 0 <= i < len(self))]
        if bad:
            raise ValueError(f"ids must be ints in 0..{len(self) - 1}, got {bad[:10]}")
        text = []
        for i in ids:
            if i == self.EOS:
                break
            if i >= len(self.SPECIALS):
                text.append(self.tokens[i])
        return "".join(text)

    def __repr__(self) -> str:
        return f"Vocab({len(self) - len(self.SPECIALS)} characters + {self.SPECIALS})"


def pad(sequences: Sequence[Sequence[int]], value: int = Vocab.PAD) -> Tensor:
    """Lists of ids of different lengths -> an int64 tensor (B, longest), padded on the
    right with `value`."""
    if not sequences or any(len(s) == 0 for s in sequences):
        raise ValueError("sequences must be a non-empty list of non-empty id lists")
    out = torch.full((len(sequences), max(map(len, sequences))), value, dtype=torch.long)
    for row, seq in enumerate(sequences):
        out[row, :len(seq)] = torch.as_tensor(seq, dtype=torch.long)
    return out


def make_batch(sources: Sequence[str], targets: Sequence[str], src_vocab: Vocab,
               tgt_vocab: Vocab) -> tuple[tuple[Tensor, Tensor], Tensor]:
    """((src, tgt_in), target) for teacher forcing, from texts:

    - src (B, S): the sources' ids, PAD on the right;
    - tgt_in (B, T): what the decoder reads, BOS then the target shifted right by one;
    - target (B, T): what it must predict, each target's ids then EOS, PAD on the right,
      which `seq2seq_loss` leaves out.

    (src, tgt_in) is what `Seq2Seq` takes, so `fit` can be given batches of this form.
    """
    if len(sources) != len(targets):
        raise ValueError(f"sources and targets must have the same length, "
                         f"got {len(sources)} and {len(targets)}")
    src = pad([src_vocab.encode(s) for s in sources])
    target = pad([tgt_vocab.encode(t, eos=True) for t in targets])
    tgt_in = torch.cat([torch.full_like(target[:, :1], Vocab.BOS), target[:, :-1]], dim=1)
    tgt_in[tgt_in == Vocab.EOS] = Vocab.PAD      # nothing is fed after the end
    return (src, tgt_in), target


def bucket_batches(sources: Sequence[str], targets: Sequence[str], src_vocab: Vocab,
                   tgt_vocab: Vocab, batch_size: int, seed: int | None = None
                   ) -> Callable[[], tuple[tuple[Tensor, Tensor], Tensor]]:
    """A function returning a random batch ((src, tgt_in), target) at each call, for `fit`.

    Every batch is drawn from pairs whose sources have the same length ("bucketing"), so
    it needs no padding and the encoder runs no more steps than its sources are long.
    A length is chosen with probability proportional to how many pairs have it, so every
    pair is equally likely to be drawn.
    """
    if len(sources) != len(targets) or not sources:
        raise ValueError(f"sources and targets must be non-empty and of the same length, "
                         f"got {len(sources)} and {len(targets)}")
    check_int("batch_size", batch_size)
    g = generator(seed)
    lengths = torch.tensor([len(s) for s in sources])
    buckets = [torch.nonzero(lengths == n).flatten() for n in lengths.unique()]
    sizes = torch.tensor([len(b) for b in buckets], dtype=torch.float)

    def batch() -> tuple[tuple[Tensor, Tensor], Tensor]:
        bucket = buckets[int(torch.multinomial(sizes, 1, generator=g))]
        rows = bucket[torch.randint(0, len(bucket), (batch_size,), generator=g)].tolist()
        return make_batch([sources[i] for i in rows], [targets[i] for i in rows],
                          src_vocab, tgt_vocab)

    return batch


def seq2seq_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Mean cross-entropy per target token, PAD positions left out: the loss for `fit`."""
    if logits.dim() != 3 or target.shape != logits.shape[:2]:
        raise ValueError(f"logits must be (B, T, V) and target (B, T), got "
                         f"{tuple(logits.shape)} and {tuple(target.shape)}")
    return nn.functional.cross_entropy(logits.flatten(0, 1), target.flatten(),
                                       ignore_index=Vocab.PAD)


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------


class Attention(nn.Module):
    """Score every source position j against a decoder state q, and average the encoder
    states with the softmax of the scores:

        additive (Bahdanau et al. 2015):  e_j = v . tanh(W_q q + W_k k_j)
        dot      (Luong et al. 2015):     e_j = q . k_j
        a = softmax(e) over the unmasked j,   context = sum_j a_j k_j
    """

    def __init__(self, kind: str, query_size: int, key_size: int,
                 attention_size: int | None = None) -> None:
        super().__init__()
        self.kind = check_choice("kind", kind, ("additive", "dot"))
        check_int("query_size", query_size)
        check_int("key_size", key_size)
        if kind == "dot" and query_size != key_size:
            raise ValueError(f"dot-product attention needs query_size == key_size, "
                             f"got {query_size} and {key_size}")
        if kind == "additive":
            size = check_int("attention_size", attention_size or key_size)
            self.W_q = nn.Linear(query_size, size, bias=False)
            self.W_k = nn.Linear(key_size, size, bias=True)
            self.v = nn.Linear(size, 1, bias=False)

    def scores(self, queries: Tensor, keys: Tensor) -> Tensor:
        """(B, Tq, Hq) and (B, Tk, Hk) -> (B, Tq, Tk) unnormalised scores."""
        if self.kind == "dot":
            return queries @ keys.transpose(1, 2)
        hidden = torch.tanh(self.W_q(queries)[:, :, None] + self.W_k(keys)[:, None])
        return self.v(hidden).squeeze(-1)

    def forward(self, queries: Tensor, keys: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Contexts (B, Tq, Hk) and weights (B, Tq, Tk); `mask` (B, Tk) is True at real
        source positions and False at padding, which gets weight 0."""
        if queries.dim() != 3 or keys.dim() != 3 or mask.shape != keys.shape[:2]:
            raise ValueError(f"queries and keys must be (B, T, H) and mask (B, Tk), got "
                             f"{tuple(queries.shape)}, {tuple(keys.shape)}, {tuple(mask.shape)}")
        scores = self.scores(queries, keys).masked_fill(~mask[:, None], float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        return weights @ keys, weights


class Seq2Seq(nn.Module):
    """An encoder-decoder GRU, with or without attention.

        encoder:  k_j = GRU(embed(x_j), k_{j-1}),                 j = 1..S
        decoder:  s_t = GRU(embed(y_{t-1}), s_{t-1}),  s_0 = k_S, y_0 = BOS
        context:  c_t = k_S without attention,  sum_j a_tj k_j with it
        read-out: p(y_t | y_<t, x) = softmax(W_o tanh(W_c [c_t; s_t] + b_c) + b_o)

    Attention follows Luong et al.'s arrangement: the decoder state s_t is computed first
    and then queries the encoder states, so teacher forcing runs the decoder over the
    whole target in one call. `attention_size` is the width of the additive score's
    hidden layer (half the hidden size by default); the dot product has none.

    The source is packed (torch.nn.utils.rnn.pack_padded_sequence), so the encoder never
    reads the padding and k_S is each source's own last state.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, hidden_size: int = 64,
                 embedding_size: int = 16, attention: str | None = None,
                 attention_size: int | None = None) -> None:
        super().__init__()
        for name, value in (("src_vocab_size", src_vocab_size),
                            ("tgt_vocab_size", tgt_vocab_size), ("hidden_size", hidden_size),
                            ("embedding_size", embedding_size)):
            check_int(name, value)
        check_choice("attention", attention, (None, "additive", "dot"))
        self.src_embed = nn.Embedding(src_vocab_size, embedding_size, padding_idx=Vocab.PAD)
        self.tgt_embed = nn.Embedding(tgt_vocab_size, embedding_size, padding_idx=Vocab.PAD)
        self.encoder = nn.GRU(embedding_size, hidden_size, batch_first=True)
        self.decoder = nn.GRU(embedding_size, hidden_size, batch_first=True)
        self.attention = (Attention(attention, hidden_size, hidden_size,
                                    attention_size or max(1, hidden_size // 2))
                          if attention is not None else None)
        self.combine = nn.Linear(2 * hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size, tgt_vocab_size)

    def start(self, src: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Encode a batch of sources (B, S): the decoder's state (h, keys, mask), with h the
        first decoder state (B, H), keys the encoder states (B, S, H), mask (B, S)."""
        if src.dtype != torch.long or src.dim() != 2:
            raise ValueError(f"src must be int64 of shape (batch, length), "
                             f"got {src.dtype} {tuple(src.shape)}")
        mask = src != Vocab.PAD
        lengths = mask.sum(1)
        if (lengths == 0).any():
            raise ValueError("every source needs at least one character that is not PAD")
        embedded = self.src_embed(src)
        if bool(mask.all()):                       # no padding: nothing to pack
            keys, h = self.encoder(embedded)
            return h[0], keys, mask
        packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        keys, h = self.encoder(packed)
        keys, _ = nn.utils.rnn.pad_packed_sequence(keys, batch_first=True,
                                                   total_length=src.shape[1])
        return h[0], keys, mask

    def decode(self, tgt_in: Tensor, state: tuple[Tensor, Tensor, Tensor]
               ) -> tuple[Tensor, tuple[Tensor, Tensor, Tensor], Tensor | None]:
        """Run the decoder over inputs (B, T) from `state`: logits (B, T, V), the new state,
        and the attention weights (B, T, S), or None without attention."""
        h, keys, mask = state
        states, h_last = self.decoder(self.tgt_embed(tgt_in), h[None])
        weights = None
        if self.attention is not None:
            context, weights = self.attention(states, keys, mask)
        else:                                          # the encoder's last state, always
            last = mask.sum(1) - 1
            context = keys[torch.arange(len(keys)), last][:, None].expand_as(states)
        states = torch.tanh(self.combine(torch.cat([context, states], dim=-1)))
        return self.out(states), (h_last[0], keys, mask), weights

    def forward(self, inputs: tuple[Tensor, Tensor]) -> Tensor:
        """Teacher forcing: (src, tgt_in) -> logits (B, T, V) for every target position at
        once, each step fed the true previous character."""
        if not (isinstance(inputs, (tuple, list)) and len(inputs) == 2):
            raise TypeError("a Seq2Seq takes one argument, the pair (src, tgt_in)")
        src, tgt_in = inputs
        logits, _, _ = self.decode(tgt_in, self.start(src))
        return logits

    def step(self, tokens: Tensor, state) -> tuple[Tensor, tuple[Tensor, Tensor, Tensor]]:
        """One free-running step: the last tokens (N,) -> log-probabilities (N, V) of the
        next, and the new state. The interface of `greedy_search` and `beam_search`."""
        logits, state, _ = self.decode(tokens[:, None], state)
        return torch.log_softmax(logits[:, 0], dim=-1), state


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------

Step = Callable[[Tensor, tuple], tuple[Tensor, tuple]]
"""step(last tokens (N,), state) -> (log-probabilities (N, V), new state). A state is a
tuple of tensors (or None) whose first dimension is N."""


def _check_search(state, bos: int, eos: int, max_len: int) -> int:
    if not isinstance(state, tuple) or not any(isinstance(s, Tensor) for s in state):
        raise TypeError("state must be a tuple of tensors, each with the batch first")
    check_int("bos", bos, minimum=0)
    check_int("eos", eos, minimum=0)
    check_int("max_len", max_len)
    return next(s for s in state if isinstance(s, Tensor)).shape[0]


def _select(state: tuple, rows: Tensor) -> tuple:
    return tuple(None if s is None else s[rows] for s in state)


@torch.no_grad()
def greedy_search(step: Step, state: tuple, *, bos: int, eos: int, max_len: int) -> Tensor:
    """Free-running decoding that takes the most probable token at every step.

    Returns tokens (B, max_len); after EOS a row holds EOS.
    """
    batch_size = _check_search(state, bos, eos, max_len)
    tokens = torch.full((batch_size,), bos, dtype=torch.long)
    done = torch.zeros(batch_size, dtype=torch.bool)
    out = []
    for _ in range(max_len):
        log_probs, state = step(tokens, state)
        tokens = log_probs.argmax(-1).masked_fill(done, eos)
        out.append(tokens)
        done |= tokens == eos
        if done.all():
            break
    tokens = torch.stack(out, dim=1)
    return nn.functional.pad(tokens, (0, max_len - tokens.shape[1]), value=eos)


@torch.no_grad()
def beam_search(step: Step, state: tuple, *, bos: int, eos: int, max_len: int,
                width: int) -> tuple[Tensor, Tensor]:
    """Keep the `width` most probable prefixes at every step, for every batch row.

    At each step every kept prefix is extended by every token, and the `width`
    extensions with the highest total log-probability are kept. A prefix that has emitted
    EOS stays in the beam unchanged (its only extension is EOS, at log-probability 0), so
    finished and unfinished hypotheses compete on their totals. No length normalisation:
    the totals of sequences of different lengths are compared as they are.

    Returns tokens (B, width, max_len), best first (after EOS a row holds EOS), and their
    total log-probabilities (B, width). With width 1 it is greedy search.
    """
    batch_size = _check_search(state, bos, eos, max_len)
    width = check_int("width", width)
    # Every batch row starts with `width` copies of its state; only the first is alive,
    # so that the first step does not fill the beam with copies of the same prefix.
    state = _select(state, torch.arange(batch_size).repeat_interleave(width))
    scores = torch.full((batch_size, width), float("-inf"))
    scores[:, 0] = 0.0
    tokens = torch.full((batch_size * width,), bos, dtype=torch.long)
    done = torch.zeros(batch_size * width, dtype=torch.bool)
    history = []
    for _ in range(max_len):
        log_probs, state = step(tokens, state)
        vocab_size = log_probs.shape[-1]
        finished = torch.full_like(log_probs, float("-inf"))
        finished[:, eos] = 0.0
        log_probs = torch.where(done[:, None], finished, log_probs)
        total = (scores.reshape(-1, 1) + log_probs).reshape(batch_size, width * vocab_size)
        scores, best = total.topk(width, dim=1)                 # sorted, highest first
        rows = (torch.arange(batch_size)[:, None] * width + best // vocab_size).reshape(-1)
        tokens = (best % vocab_size).reshape(-1)
        history = [h[rows] for h in history] + [tokens]
        state, done = _select(state, rows), done[rows] | (tokens == eos)
        if done.all():
            break
    tokens = torch.stack(history, dim=1).reshape(batch_size, width, -1)
    return nn.functional.pad(tokens, (0, max_len - tokens.shape[-1]), value=eos), scores


@torch.no_grad()
def translate(model: Seq2Seq, sources: Sequence[str], src_vocab: Vocab, tgt_vocab: Vocab,
              *, max_len: int = 12, width: int = 1) -> list[str]:
    """Translate texts free-running: greedy with width 1, the best of a beam otherwise."""
    model.eval()
    state = model.start(pad([src_vocab.encode(s) for s in sources]))
    if width == 1:
        tokens = greedy_search(model.step, state, bos=Vocab.BOS, eos=Vocab.EOS,
                               max_len=max_len)
    else:
        tokens = beam_search(model.step, state, bos=Vocab.BOS, eos=Vocab.EOS,
                             max_len=max_len, width=width)[0][:, 0]
    return [tgt_vocab.decode(row) for row in tokens]
