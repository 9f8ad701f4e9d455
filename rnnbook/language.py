"""Character language models: scores, a smoothed n-gram, sampling, and reading the cells.

    bpc = bits_per_char(model, val_ids)                 # held-out bits per character
    kn = KneserNey(order=5).fit(train_ids, vocab_size=len(vocab))
    kn.cross_entropy(val_ids) / math.log(2)             # the n-gram's bits per character
    texts, nll = sample(model, vocab, ["def "] * 16, 400, temperature=0.8, top_p=0.9)
    features = scan_python(text)                        # in_string, indent, bracket_depth...
    r = feature_correlation(states, features["in_string"])   # one r per unit
    losses = ablated_losses(model, ids, units=[17])     # per-character loss, unit 17 silenced

    python -m rnnbook.language train --steps 4000 --out char_lstm.pt   # makes the checkpoint

Everything here reads a `rnnbook.CharLM` (one-layer LSTM) and ids from `CharVocab.encode`.
Chapter 11 uses all of it.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import time
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from rnnbook.checks import check_bool, check_float, check_int, to_numpy
from rnnbook.train import evaluating

__all__ = ["FEATURES", "KneserNey", "ablated_losses", "bits_per_char", "feature_correlation",
           "filter_logits", "load_checkpoint", "main", "sample", "scan_python", "train"]

BITS = 1 / math.log(2)
"""Multiply nats by this to get bits."""

CHECKPOINT = "char_lstm.pt"
"""The checkpoint shipped in rnnbook/datasets/, made by `python -m rnnbook.language train`."""


def _ids(ids, name: str = "ids") -> Tensor:
    """A 1-D int64 tensor of character ids, as CharVocab.encode returns."""
    if not isinstance(ids, Tensor) or ids.dim() != 1 or ids.dtype != torch.long:
        got = (f"a tensor of dtype {ids.dtype} and shape {tuple(ids.shape)}"
               if isinstance(ids, Tensor) else f"a {type(ids).__name__}")
        raise TypeError(f"{name} must be a 1-D int64 tensor, as CharVocab.encode returns, "
                        f"got {got}")
    return ids


def _charlm(model) -> nn.Module:
    """A CharLM with a one-layer, one-directional LSTM (what the cell readers assume)."""
    rnn = getattr(model, "rnn", None)
    if not (isinstance(model, nn.Module) and hasattr(model, "embed") and hasattr(model, "head")
            and isinstance(rnn, nn.Module)):
        raise TypeError(f"model must be a rnnbook.CharLM, got {type(model).__name__}")
    return model


def _check_range(ids: Tensor, model: nn.Module, name: str = "ids") -> None:
    vocab_size = model.embed.num_embeddings
    if ids.numel() and not 0 <= int(ids.min()) <= int(ids.max()) < vocab_size:
        raise ValueError(f"{name} must be ids in 0..{vocab_size - 1}, the vocabulary of the "
                         f"model, got {int(ids.min())}..{int(ids.max())}")


def _streams(ids: Tensor, streams: int, model: nn.Module) -> tuple[Tensor, Tensor]:
    """The text cut into `streams` equal rows, inputs x and next characters y, each
    (streams, per_stream); the few characters left over are dropped."""
    per_stream = (len(ids) - 1) // streams
    if per_stream < 1:
        raise ValueError(f"ids must hold more than streams = {streams} ids, got {len(ids)}")
    _check_range(ids, model)
    x = ids[:streams * per_stream].view(streams, per_stream)
    y = ids[1:streams * per_stream + 1].view(streams, per_stream)
    return x, y


# ---------------------------------------------------------------------------
# Bits per character
# ---------------------------------------------------------------------------

@torch.no_grad()
def bits_per_char(model: nn.Module, ids: Tensor, streams: int = 16, seq_len: int = 128,
                  carry_state: bool = True) -> float:
    """Mean bits per character of `model` predicting each next id of `ids`.

    The ids are read as `streams` parallel streams (as `rnnbook.stream_batches` lays them
    out), in chunks of `seq_len`. With `carry_state` the state flows from one chunk to the
    next, so each character is predicted from everything before it in its stream; without
    it, every chunk starts from a zero state, as a model trained on random windows sees
    its text. Characters left over after the streams are cut are not scored.
    """
    model = _charlm(model)
    ids = _ids(ids)
    streams, seq_len = check_int("streams", streams), check_int("seq_len", seq_len)
    carry_state = check_bool("carry_state", carry_state)
    x, y = _streams(ids, streams, model)
    per_stream = x.size(1)
    with evaluating(model) as device:
        total, state = 0.0, None
        for start in range(0, per_stream, seq_len):
            logits, state = model(x[:, start:start + seq_len].to(device),
                                  state if carry_state else None)
            total += nn.functional.cross_entropy(
                logits.reshape(-1, logits.size(-1)),
                y[:, start:start + seq_len].reshape(-1).to(device), reduction="sum").item()
    return total / y.numel() * BITS


# ---------------------------------------------------------------------------
# Interpolated Kneser-Ney
# ---------------------------------------------------------------------------

def _codes(ids: np.ndarray, k: int, base: int) -> np.ndarray:
    """Integer code of each k-gram of ids (the one ending at position i, for i >= k-1)."""
    n = len(ids) - k + 1
    code = np.zeros(n, dtype=np.int64)
    for i in range(k):
        code = code * base + ids[i:i + n]
    return code


def _lookup(table: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """values[table == query] where the query is in the sorted table, else 0."""
    if len(table) == 0:
        return np.zeros(len(query), dtype=values.dtype)
    pos = np.clip(np.searchsorted(table, query), 0, len(table) - 1)
    return np.where(table[pos] == query, values[pos], 0)


class KneserNey:
    """An interpolated Kneser-Ney character n-gram model (Kneser & Ney 1995; the
    interpolated form of Chen & Goodman 1999), with one absolute discount per order.

        P_k(w | h) = max(c_k(hw) - D_k, 0) / S_k(h)  +  D_k T_k(h) / S_k(h) * P_{k-1}(w | h')

    h' is h without its first symbol. At the top order c_k counts the n-grams; below it,
    c_k(hw) counts the distinct symbols seen just before hw (its "continuations"), which
    is what makes Kneser-Ney better than plain backing off: a symbol that follows many
    contexts gets a high lower-order probability, one frequent only after one context does
    not. S_k(h) = sum over w of c_k(hw), T_k(h) = the number of w with c_k(hw) > 0, and a
    context never seen (S_k(h) = 0) passes all its mass down. P_0 is uniform over the
    vocabulary, so every symbol has a probability above 0. D_k = n1 / (n1 + 2 n2), from
    the numbers n1, n2 of k-grams counted once and twice (Ney, Essen & Kneser 1994), or
    0.5 when no k-gram was counted once (D_k = 0 would give unseen symbols probability 0).
    """

    def __init__(self, order: int = 5) -> None:
        self.order = check_int("order", order)
        self.vocab_size: int | None = None

    def fit(self, train_ids, vocab_size: int) -> KneserNey:
        """Count the n-grams of `train_ids` (ids in 0..vocab_size-1). Returns self."""
        vocab_size = check_int("vocab_size", vocab_size)
        if vocab_size ** self.order >= 2 ** 62:
            raise ValueError(f"vocab_size**order must be below 2**62, got "
                             f"{vocab_size}**{self.order}")
        ids = self._array(train_ids, "train_ids", vocab_size)
        if len(ids) < self.order:
            raise ValueError(f"train_ids needs at least order={self.order} ids, got {len(ids)}")
        self.vocab_size = V = vocab_size
        self.tables = {}
        # top order: counts of the n-grams; order k < n: continuation counts, the number of
        # distinct (k+1)-grams that end in each k-gram.
        grams, counts = np.unique(_codes(ids, self.order, V), return_counts=True)
        for k in range(self.order, 0, -1):
            if k < self.order:
                grams, counts = np.unique(grams % V ** k, return_counts=True)
            n1, n2 = np.sum(counts == 1), np.sum(counts == 2)
            discount = n1 / (n1 + 2 * n2) if n1 > 0 else 0.5
            contexts, where = np.unique(grams // V, return_inverse=True)
            totals = np.bincount(where, weights=counts).astype(np.int64)
            types = np.bincount(where).astype(np.int64)
            self.tables[k] = (grams, counts, discount, contexts, totals, types)
        return self

    def _array(self, ids, name: str, vocab_size: int) -> np.ndarray:
        arr = to_numpy(ids, name, ndim=(1,), dtype=None)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{name} must hold integer ids, got dtype {arr.dtype}")
        arr = arr.astype(np.int64)
        if len(arr) and (arr.min() < 0 or arr.max() >= vocab_size):
            raise ValueError(f"{name} must hold ids in 0..{vocab_size - 1}, got "
                             f"{arr.min()}..{arr.max()}")
        return arr

    def _fitted(self) -> int:
        if self.vocab_size is None:
            raise ValueError("this KneserNey model is not fitted: call fit(train_ids, "
                             "vocab_size) first")
        return self.vocab_size

    def probs(self, grams) -> np.ndarray:
        """P(last symbol | the ones before) of each row of `grams`, an (M, order) array."""
        V = self._fitted()
        arr = to_numpy(grams, "grams", ndim=(2,), dtype=None)
        if arr.shape[1] != self.order:
            raise ValueError(f"grams must have order={self.order} columns, got shape "
                             f"{arr.shape}")
        if arr.dtype.kind not in "iu":
            raise TypeError(f"grams must hold integer ids, got dtype {arr.dtype}")
        arr = arr.astype(np.int64)
        if arr.size and (arr.min() < 0 or arr.max() >= V):
            raise ValueError(f"grams must hold ids in 0..{V - 1}")
        p = np.full(len(arr), 1.0 / V)
        for k in range(1, self.order + 1):
            grams, counts, discount, contexts, totals, types = self.tables[k]
            code = np.zeros(len(arr), dtype=np.int64)
            for j in range(self.order - k, self.order):
                code = code * V + arr[:, j]
            c = _lookup(grams, counts, code)
            s = _lookup(contexts, totals, code // V)
            t = _lookup(contexts, types, code // V)
            seen = s > 0
            safe = np.where(seen, s, 1)
            mixed = (np.maximum(c - discount, 0) + discount * t * p) / safe
            p = np.where(seen, mixed, p)
        return p

    def cross_entropy(self, eval_ids) -> float:
        """Mean cross-entropy in nats per symbol of `eval_ids`. As in
        `rnnbook.baselines.ngram_cross_entropy`, the first order-1 ids, which lack a full
        context, are not scored."""
        V = self._fitted()
        ids = self._array(eval_ids, "eval_ids", V)
        if len(ids) < self.order:
            raise ValueError(f"eval_ids needs at least order={self.order} ids, got {len(ids)}")
        windows = np.lib.stride_tricks.sliding_window_view(ids, self.order)
        return float(-np.log(self.probs(windows)).mean())


# ---------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------

def filter_logits(logits: Tensor, temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None) -> Tensor:
    """Logits (..., V) divided by `temperature`, with the symbols outside the top `top_k`,
    or outside the nucleus of `top_p`, set to -inf.

    The nucleus (Holtzman et al. 2020) is the smallest set of the most probable symbols
    whose probabilities (after the temperature) add up to at least top_p; the most
    probable symbol is always kept. Sampling from softmax of the result draws from the
    renormalised distribution over the symbols kept.
    """
    if not isinstance(logits, Tensor) or logits.dim() < 1 or not logits.is_floating_point():
        got = logits.dtype if isinstance(logits, Tensor) else type(logits).__name__
        raise TypeError(f"logits must be a float tensor (..., vocab), got {got}")
    if logits.size(-1) == 0:
        raise ValueError("logits must have at least one symbol in the last dimension")
    temperature = check_float("temperature", temperature, above=0)
    top_k = None if top_k is None else check_int("top_k", top_k)
    top_p = None if top_p is None else check_float("top_p", top_p, above=0, maximum=1)
    logits = logits / temperature
    if top_k is not None and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, -math.inf)
    if top_p is not None:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        cum = torch.softmax(sorted_logits, dim=-1).cumsum(-1)
        drop_sorted = (cum - torch.softmax(sorted_logits, dim=-1)) >= top_p   # mass before
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, -math.inf)
    return logits


@torch.no_grad()
def sample(model: nn.Module, vocab, prompts, length: int, temperature: float = 1.0,
           top_k: int | None = None, top_p: float | None = None,
           generator: torch.Generator | None = None) -> tuple[list[str], np.ndarray]:
    """Continue each prompt by `length` characters, all prompts in one batch.

    Each next character is drawn from softmax(filter_logits(logits, temperature, top_k,
    top_p)). Returns the texts (prompt included) and, for each, the mean negative
    log-probability in nats that the *unfiltered* model (temperature 1) gives to the
    characters it sampled: the sample's cross-entropy under the model. Prompts must have
    equal length (they are read as one batch).
    """
    model = _charlm(model)
    if not all(hasattr(vocab, name) for name in ("encode", "decode", "__len__")):
        raise TypeError(f"vocab must be the CharVocab the model was trained with, "
                        f"got {type(vocab).__name__}")
    if len(vocab) != model.embed.num_embeddings:
        raise ValueError(f"vocab has {len(vocab)} characters but the model was built for "
                         f"{model.embed.num_embeddings}")
    if isinstance(prompts, str):
        prompts = [prompts]
    if not isinstance(prompts, (list, tuple)) or not all(isinstance(p, str) for p in prompts):
        raise TypeError(f"prompts must be a str or a list of str, got {type(prompts).__name__}")
    if not prompts or not all(prompts) or len({len(p) for p in prompts}) != 1:
        raise ValueError("prompts must be non-empty strs, all of the same length")
    length = check_int("length", length)
    filter_logits(torch.zeros(1), temperature, top_k, top_p)        # checks the settings
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, "
                        f"got {type(generator).__name__}")
    with evaluating(model) as device:
        x = torch.stack([vocab.encode(p) for p in prompts]).to(device)
        logits, state = model(x)
        logits = logits[:, -1]
        out, nll = [], torch.zeros(len(prompts))
        for _ in range(length):
            probs = torch.softmax(filter_logits(logits, temperature, top_k, top_p), -1)
            nxt = torch.multinomial(probs.cpu(), 1, generator=generator)       # (B, 1)
            nll -= torch.log_softmax(logits.cpu(), -1).gather(1, nxt)[:, 0]
            out.append(nxt)
            logits, state = model(nxt.to(device), state)
            logits = logits[:, -1]
    chars = torch.cat(out, dim=1)
    texts = [p + vocab.decode(row) for p, row in zip(prompts, chars, strict=True)]
    return texts, (nll / length).numpy().astype(np.float64)


# ---------------------------------------------------------------------------
# Features of Python source, read without a tokenizer
# ---------------------------------------------------------------------------

FEATURES = ("in_string", "in_comment", "indent", "bracket_depth", "line_start")


def scan_python(text: str) -> dict[str, np.ndarray]:
    """Features of Python source at each character, as a reader who has just read it knows.

    One pass, character by character, no tokenizer (so it works on broken code, and on
    samples). For character t, each feature describes the state *after* reading it:

    - in_string: 1 inside a string literal: from its opening quote (included) to its
      closing quote (excluded). Handles ' and ", triple quotes, and backslash escapes.
    - in_comment: 1 from a # outside a string to the end of its line (newline excluded).
    - indent: the number of leading spaces of the current line read so far (it grows
      through the indentation, then stays until the newline, where it falls to 0).
    - bracket_depth: ( [ { opened minus closed, outside strings and comments.
    - line_start: 1 if the character is a newline, so the next one starts a line.

    Returns a dict of int64 arrays of len(text), keyed by the names in FEATURES.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    n = len(text)
    out = {name: np.zeros(n, dtype=np.int64) for name in FEATURES}
    quote = ""                      # the delimiter of the string we are in, or ""
    comment = escaped = False
    indent, at_line_start, depth = 0, True, 0
    i = 0
    while i < n:
        ch, width = text[i], 1
        if quote:                                        # inside a string
            inside = True
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif text.startswith(quote, i):              # the closing quote
                width, quote, inside = len(quote), "", False
            elif ch == "\n" and len(quote) == 1:        # an unclosed one-line string ends
                quote, inside = "", False
        elif comment:
            comment = ch != "\n"
            inside = False
        elif ch in "'\"":                                # an opening quote
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            width, inside = len(quote), True
        else:
            inside = False
            comment = ch == "#"
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth = max(depth - 1, 0)
        for j in range(i, min(i + width, n)):            # a triple quote is 3 characters
            c = text[j]
            if c == "\n":
                indent, at_line_start = 0, True
            elif at_line_start and c == " ":
                indent += 1
            else:
                at_line_start = False
            out["in_string"][j] = inside
            out["in_comment"][j] = comment
            out["indent"][j] = indent
            out["bracket_depth"][j] = depth
            out["line_start"][j] = c == "\n"
        i += width
    return out


# ---------------------------------------------------------------------------
# Units and features; ablation
# ---------------------------------------------------------------------------

def feature_correlation(states, feature) -> np.ndarray:
    """Pearson correlation of each unit's activation with a feature, over time steps.

    states (N, H): one row per character (e.g. the LSTM's cell state c from
    `rnnbook.gradients.gate_trace`); feature (N,). Returns (H,) correlations in [-1, 1];
    a unit that never varies gets 0.
    """
    s = to_numpy(states, "states", ndim=(2,))
    f = to_numpy(feature, "feature", ndim=(1,))
    if len(s) != len(f):
        raise ValueError(f"states and feature must have one row per step, got {len(s)} "
                         f"and {len(f)}")
    if len(f) < 2:
        raise ValueError(f"feature must hold at least 2 steps, got {len(f)}")
    s, f = s - s.mean(0), f - f.mean()
    denom = np.sqrt((s ** 2).sum(0) * (f ** 2).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (s * f[:, None]).sum(0) / denom
    return np.where(denom > 0, r, 0.0)


@torch.no_grad()
def ablated_losses(model: nn.Module, ids: Tensor, units=(), streams: int = 16) -> np.ndarray:
    """Loss in nats of each next-character prediction along `ids`, with `units` silenced.

    The ids are read as `streams` parallel streams with the state carried throughout, one
    step at a time; after every step the listed units of the LSTM's h and c are set to 0,
    so they neither feed the read-out nor carry anything forward. With units=() this is the
    plain per-character loss. Returns an array aligned with the targets: entry i is the
    loss of predicting ids[i + 1]; characters left over after cutting the streams are nan.
    """
    model = _charlm(model)
    ids = _ids(ids)
    streams = check_int("streams", streams)
    if isinstance(units, (str, bytes)) or not hasattr(units, "__iter__"):
        raise TypeError(f"units must be a list of unit indices, got {type(units).__name__}")
    units = list(units)
    hidden = model.rnn.hidden_size
    for u in units:
        check_int("units", u, minimum=0, maximum=hidden - 1)
    if not isinstance(model.rnn, nn.LSTM) or model.rnn.num_layers != 1 \
            or model.rnn.bidirectional:
        raise ValueError("model must be a CharLM with a one-layer torch LSTM (kind='lstm')")
    x, y = _streams(ids, streams, model)
    per_stream = x.size(1)
    with evaluating(model) as device:
        emb = model.embed(x.to(device))
        h = torch.zeros(1, streams, hidden, device=device)
        c = torch.zeros_like(h)
        losses = torch.empty(streams, per_stream)
        for t in range(per_stream):
            out, (h, c) = model.rnn(emb[:, t:t + 1], (h, c))
            if units:
                h[..., units] = 0
                c[..., units] = 0
                out = h.transpose(0, 1)
            logits = model.head(out[:, 0])
            losses[:, t] = nn.functional.cross_entropy(logits, y[:, t].to(device),
                                                       reduction="none").cpu()
    result = np.full(len(ids) - 1, np.nan)
    result[:streams * per_stream] = losses.reshape(-1).numpy()
    return result


# ---------------------------------------------------------------------------
# The checkpoint: the training script, and loading what it made
# ---------------------------------------------------------------------------

def train(steps: int = 4000, hidden_size: int = 256, batch_size: int = 32, seq_len: int = 128,
          lr: float = 3e-3, seed: int = 0, out: str | None = None,
          eval_every: int = 250) -> dict:
    """Train the chapter's character LSTM on the first 90% of the shipped corpus.

    Stateful truncated BPTT: the training text is laid out as `batch_size` streams
    (`rnnbook.stream_batches`), cut into chunks of `seq_len`, with the state carried
    across chunks; Adam with learning rate `lr`, decayed linearly to 0 (the last steps
    settle the weights), gradient norm clipped at 1. Every `eval_every` steps it records the
    bits per character on the held-out last 10% against the CPU seconds spent so far.
    Returns (and, with `out`, saves with torch.save) a dict: the weights, the settings,
    the curve, the torch version and the CPU time. Seeds go through `rnnbook.seeding`.
    """
    import rnnbook
    from rnnbook.seeding import shifted

    steps, hidden_size = check_int("steps", steps), check_int("hidden_size", hidden_size)
    batch_size, seq_len = check_int("batch_size", batch_size), check_int("seq_len", seq_len)
    lr = check_float("lr", lr, above=0)
    seed, eval_every = check_int("seed", seed, minimum=0), check_int("eval_every", eval_every)
    if out is not None and not isinstance(out, (str, Path)):
        raise TypeError(f"out must be a path or None, got {type(out).__name__}")
    text = rnnbook.load_text()
    vocab = rnnbook.CharVocab(text)
    ids = vocab.encode(text)
    split = int(0.9 * len(ids))
    train_ids, val_ids = ids[:split], ids[split:]
    rnnbook.seed_everything(seed)
    model = rnnbook.CharLM(len(vocab), hidden_size=hidden_size, kind="lstm")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1 - s / steps)
    batches = rnnbook.stream_batches(train_ids, batch_size, seq_len)
    curve = {"step": [], "cpu_seconds": [], "bpc": []}
    start = time.process_time()
    state, model_loss = None, []
    for step in rnnbook.progress(range(1, steps + 1), desc="training"):
        x, y = batches[(step - 1) % len(batches)]
        if (step - 1) % len(batches) == 0:
            state = None                               # a new pass starts the streams again
        logits, state = model(x, state)
        state = tuple(s.detach() for s in state)
        loss = rnnbook.lm_loss(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        model_loss.append(loss.item())
        if step % eval_every == 0 or step == steps:
            curve["step"].append(step)
            curve["cpu_seconds"].append(time.process_time() - start)
            curve["bpc"].append(bits_per_char(model, val_ids))
    result = {
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "chars": vocab.chars,
        "settings": dict(steps=steps, hidden_size=hidden_size, batch_size=batch_size,
                         seq_len=seq_len, lr=lr, seed=seed, seed_used=shifted(seed),
                         split=split),
        "curve": curve,
        "train_loss": model_loss,
        "cpu_seconds": time.process_time() - start,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    if out is not None:
        torch.save(result, out)
    return result


def load_checkpoint(path: str | None = None):
    """The shipped character LSTM: (model in eval mode, CharVocab, the dict `train` saved).

    path: another checkpoint made by `train`; by default the one in rnnbook/datasets/.
    """
    import rnnbook

    if path is None:
        source = resources.files("rnnbook.datasets").joinpath(CHECKPOINT)
        with resources.as_file(source) as p:
            saved = torch.load(p, weights_only=False)
    else:
        if not isinstance(path, (str, Path)):
            raise TypeError(f"path must be a path to a checkpoint or None, "
                            f"got {type(path).__name__}")
        if not Path(path).is_file():
            raise ValueError(f"path must name a checkpoint file, got {str(path)!r}")
        saved = torch.load(path, weights_only=False)
    vocab = rnnbook.CharVocab("".join(saved["chars"]))
    model = rnnbook.CharLM(len(vocab), hidden_size=saved["settings"]["hidden_size"],
                           kind="lstm")
    model.load_state_dict(saved["state_dict"])
    model.eval()
    return model, vocab, saved


def _sha256(path) -> str:
    """The SHA-256 of a file, in hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> None:
    """`python -m rnnbook.language train [--steps N] [--hidden-size H] ... --out FILE`."""
    if argv is not None and (isinstance(argv, str) or not isinstance(argv, (list, tuple))):
        raise TypeError(f"argv must be a list of str, got {type(argv).__name__}")
    parser = argparse.ArgumentParser(prog="python -m rnnbook.language",
                                     description="Train the character LSTM of chapter 11.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train and save a checkpoint")
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--hidden-size", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    result = train(args.steps, args.hidden_size, args.batch_size, args.seq_len, args.lr,
                   args.seed, args.out, args.eval_every)
    print(f"{args.out}: {result['curve']['bpc'][-1]:.4f} bits/char held out after "
          f"{args.steps} steps, {result['cpu_seconds']:.0f} s CPU, sha256 {_sha256(args.out)}")


if __name__ == "__main__":
    torch.set_num_threads(1)                    # the recorded CPU time is one thread's
    main(sys.argv[1:])
