"""Classifying whole sequences: two real data sets, batches of unequal length, read-outs.

    X, y = load_japanese_vowels("train")        # 270 utterances, (frames, 12) each
    words, labels = load_language_words()        # words of six languages, labels 0..5
    packed, targets = collate([(X[0], y[0]), (X[1], y[1])])
    model = SequenceClassifier(9, input_size=12, hidden_size=32, pool="mean")
    logits = model(packed)                       # (batch, classes)

Sequences of unequal length are padded to a rectangle and *packed*
(`torch.nn.utils.rnn.pack_padded_sequence`), so that a recurrent layer runs each sequence
for exactly its own number of steps and never reads the padding. `collate` does that
for a DataLoader; `Pool` turns the per-step outputs into one vector per sequence (last
state, mean, max or attention), looking only at the real steps.

The data come from installed packages, offline: Japanese Vowels (Kudo, Toyama & Shimbo
1999, UCI) as shipped by aeon (BSD-3-Clause), and word frequency lists from wordfreq
(code Apache-2.0, data CC BY-SA 4.0; Speer 2022).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pad_packed_sequence,
    pad_sequence,
)

from rnnbook.checks import check_bool, check_choice, check_int
from rnnbook.train import evaluating

__all__ = [
    "JAPANESE_VOWELS_SPLITS", "LANGUAGES", "SHARED_RULES", "POOLS", "load_japanese_vowels",
    "load_language_words", "collate", "Pool", "SequenceClassifier", "predict_logits",
]

JAPANESE_VOWELS_SPLITS = ("train", "test")
LANGUAGES = ("en", "de", "nl", "fr", "es", "pt")
"""Two Germanic neighbours of English and three Romance languages: related pairs
(Dutch and German, Spanish and Portuguese) make the task worth a model."""
SHARED_RULES = ("drop", "most_frequent")
POOLS = ("last", "mean", "max", "attention")


# ---------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=2)
def _japanese_vowels(split: str) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    from aeon.datasets import load_japanese_vowels as aeon_load

    X, y = aeon_load(split=split.upper())
    # aeon stores each utterance as (channels, frames); recurrent layers read (frames, features).
    series = tuple(np.ascontiguousarray(x.T, dtype=np.float32) for x in X)
    return series, y.astype(np.int64) - 1


def load_japanese_vowels(split: str) -> tuple[list[np.ndarray], np.ndarray]:
    """The Japanese Vowels speaker-identification data, in its published split.

    Nine male speakers said the vowels /ae/; each utterance is a series of 7 to 29 frames of
    12 LPC cepstrum coefficients (Kudo, Toyama & Shimbo 1999). The split is the authors':
    split="train" gives 270 utterances (30 per speaker), split="test" the 370 recorded on
    other occasions (24 to 88 per speaker, so the test classes are unbalanced).

    Returns a list of float32 arrays of shape (frames, 12) and int64 speaker labels 0..8.
    Cached: the arrays are copies, so changing them does not change later calls.
    """
    check_choice("split", split, JAPANESE_VOWELS_SPLITS)
    series, labels = _japanese_vowels(split)
    return [x.copy() for x in series], labels.copy()


@functools.lru_cache(maxsize=8)
def _top_words(language: str, per_language: int, min_length: int) -> tuple[str, ...]:
    import wordfreq

    words = []
    for word in wordfreq.iter_wordlist(language):
        if word.isalpha() and len(word) >= min_length:
            words.append(word)
            if len(words) == per_language:
                return tuple(words)
    raise ValueError(f"wordfreq has only {len(words)} words of language {language!r} with "
                     f"at least {min_length} letters; ask for fewer")


def load_language_words(languages: Sequence[str] = LANGUAGES, per_language: int = 3000,
                        min_length: int = 3, shared: str = "drop",
                        ) -> tuple[list[str], np.ndarray]:
    """Frequent words of several languages, labelled with their language.

    For each language, the `per_language` most frequent words in wordfreq's list that are
    made of letters only (no digits, apostrophes or hyphens) and have at least `min_length`
    letters. Many words are frequent in more than one language ("hotel", "data", "simple";
    web text also lends English words to every list). Their label is ambiguous, so:

    - shared="drop" (default) removes every word that is in two or more of the lists, from
      all of them: each language keeps per_language minus its shared words;
    - shared="most_frequent" keeps one copy, labelled with the language in which wordfreq
      gives it the highest frequency.

    Returns the words and int64 labels, the index of each word's language in `languages`,
    ordered by language and then by frequency.
    """
    if isinstance(languages, str) or not isinstance(languages, Sequence):
        raise TypeError(f"languages must be a sequence of wordfreq language codes, "
                        f"got {languages!r}")
    languages = tuple(languages)
    import wordfreq

    known = set(wordfreq.available_languages())
    unknown = [lang for lang in languages if lang not in known]
    if unknown:
        raise ValueError(f"wordfreq has no word list for {unknown}; "
                         f"choose from {sorted(known)}")
    if len(set(languages)) != len(languages) or len(languages) < 2:
        raise ValueError(f"languages must be at least two different codes, got {languages}")
    per_language = check_int("per_language", per_language)
    min_length = check_int("min_length", min_length)
    check_choice("shared", shared, SHARED_RULES)

    lists = [_top_words(lang, per_language, min_length) for lang in languages]
    counts: dict[str, int] = {}
    for words in lists:
        for word in words:
            counts[word] = counts.get(word, 0) + 1
    owner: dict[str, int] = {}
    if shared == "most_frequent":
        for word in (w for w, n in counts.items() if n > 1):
            freqs = [wordfreq.word_frequency(word, lang) for lang in languages]
            owner[word] = int(np.argmax(freqs))
    out_words, out_labels = [], []
    for label, words in enumerate(lists):
        for word in words:
            if counts[word] == 1 or owner.get(word) == label:
                out_words.append(word)
                out_labels.append(label)
    return out_words, np.array(out_labels, dtype=np.int64)


# ---------------------------------------------------------------------------------------
# Batches
# ---------------------------------------------------------------------------------------

def _as_sequence(x, i: int) -> Tensor:
    if isinstance(x, str):
        raise TypeError(f"sequence {i} is a str: encode it to ids first (CharVocab.encode)")
    t = torch.as_tensor(x)
    if t.dim() not in (1, 2):
        raise ValueError(f"sequence {i} must be (steps,) ids or (steps, features) values, "
                         f"got shape {tuple(t.shape)}")
    if len(t) == 0:
        raise ValueError(f"sequence {i} is empty; every sequence needs at least one step")
    if t.dim() == 1:
        if t.dtype.is_floating_point or t.dtype == torch.bool:
            raise TypeError(f"sequence {i} is 1-D, so it must hold integer ids, got {t.dtype}")
        return t.long()
    if not t.dtype.is_floating_point:
        t = t.float()
    if not torch.isfinite(t).all():
        raise ValueError(f"sequence {i} contains NaN or infinity")
    return t.float()


def collate(batch: Sequence[tuple]) -> tuple[PackedSequence, Tensor]:
    """Turn a list of (sequence, label) pairs into one packed batch and its labels.

    A sequence is a (steps,) tensor or array of integer ids, or (steps, features) values;
    lengths may differ. The sequences are padded into a (batch, longest, ...) rectangle and
    packed: `pack_padded_sequence` sorts them by length, longest first, and interleaves
    their steps, so that at step t the layer only computes the sequences still running.
    It remembers the sort, and undoes it on the layer's outputs, so the outputs, the final
    states and the labels returned here all stay in the order of `batch`.

    Use it as a DataLoader's collate_fn; `fit` moves the PackedSequence to the device.
    """
    if isinstance(batch, (str, bytes)) or not isinstance(batch, Sequence) or not batch:
        raise ValueError("batch must be a non-empty list of (sequence, label) pairs")
    pairs = []
    for i, item in enumerate(batch):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise ValueError(f"batch item {i} must be a (sequence, label) pair, "
                             f"got {type(item).__name__}")
        pairs.append(item)
    seqs = [_as_sequence(x, i) for i, (x, _) in enumerate(pairs)]
    if len({s.shape[1:] for s in seqs}) > 1 or len({s.dtype for s in seqs}) > 1:
        shapes = sorted({str(tuple(s.shape[1:])) for s in seqs})
        raise ValueError(f"all sequences must be ids, or all have the same number of "
                         f"features; got step shapes {shapes}")
    labels = torch.as_tensor([label for _, label in pairs])
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise TypeError(f"labels must be integer class indices, got {labels.dtype}")
    lengths = torch.tensor([len(s) for s in seqs])
    padded = pad_sequence(seqs, batch_first=True)
    return pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False), \
        labels.long()


# ---------------------------------------------------------------------------------------
# Read-out and model
# ---------------------------------------------------------------------------------------

class Pool(nn.Module):
    """One vector per sequence from a recurrent layer's packed outputs.

    mode="last":      the final state of each direction: for a bidirectional layer, the
                      forward direction after the last real step and the backward
                      direction after the first, concatenated.
    mode="mean":      the average of the outputs over the real steps.
    mode="max":       the largest value of each feature over the real steps.
    mode="attention": a weighted average, with weights softmax_t(v . tanh(W o_t + b))
                      learned by the model (Bahdanau et al. 2015; Yang et al. 2016).
    Padded steps never count. `size` is the width of an output step (2H if bidirectional).
    """

    def __init__(self, mode: str, size: int, attention_size: int = 32) -> None:
        super().__init__()
        self.mode = check_choice("mode", mode, POOLS)
        self.size = check_int("size", size)
        if mode == "attention":
            self.score = nn.Sequential(nn.Linear(size, check_int("attention_size",
                                                                 attention_size)),
                                       nn.Tanh(), nn.Linear(attention_size, 1, bias=False))

    def weights(self, output: PackedSequence) -> tuple[Tensor, Tensor]:
        """The attention weights (batch, steps), zero on padding, and the padded outputs."""
        padded, lengths = pad_packed_sequence(output, batch_first=True)
        scores = self.score(padded).squeeze(-1)
        real = torch.arange(padded.shape[1])[None, :] < lengths[:, None]
        return torch.softmax(scores.masked_fill(~real.to(scores.device), -torch.inf),
                             dim=1), padded

    def forward(self, output: PackedSequence, h_n: Tensor, bidirectional: bool) -> Tensor:
        if not isinstance(output, PackedSequence):
            raise TypeError(f"output must be a PackedSequence, got {type(output).__name__}")
        if self.mode == "last":
            return torch.cat([h_n[-2], h_n[-1]], dim=1) if bidirectional else h_n[-1]
        if self.mode == "attention":
            alpha, padded = self.weights(output)
            return (alpha.unsqueeze(-1) * padded).sum(dim=1)
        padded, lengths = pad_packed_sequence(output, batch_first=True)
        lengths = lengths.to(padded.device)
        if self.mode == "mean":
            return padded.sum(dim=1) / lengths[:, None].to(padded.dtype)
        real = torch.arange(padded.shape[1], device=padded.device)[None, :] < lengths[:, None]
        return padded.masked_fill(~real.unsqueeze(-1), -torch.inf).max(dim=1).values

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, size={self.size}"


class SequenceClassifier(nn.Module):
    """A recurrent classifier of whole sequences: PackedSequence -> logits (batch, classes).

    Real-valued steps (input_size features) go straight into the recurrent layer; integer
    ids (vocab_size symbols) go through an embedding first, applied to the packed data
    directly, so no padding symbol is needed. Then `Pool` and a linear layer.
    `kind` is "gru" or "lstm", torch.nn's layers (batch_first, bidirectional by default).
    """

    def __init__(self, num_classes: int, *, input_size: int | None = None,
                 vocab_size: int | None = None, embedding_size: int = 32,
                 hidden_size: int = 32, kind: str = "gru", pool: str = "last",
                 bidirectional: bool = True, num_layers: int = 1) -> None:
        super().__init__()
        num_classes = check_int("num_classes", num_classes, minimum=2)
        if (input_size is None) == (vocab_size is None):
            raise ValueError("pass exactly one of input_size (real-valued steps) and "
                             "vocab_size (integer ids)")
        self.embed = None
        if vocab_size is not None:
            self.embed = nn.Embedding(check_int("vocab_size", vocab_size), embedding_size)
            input_size = check_int("embedding_size", embedding_size)
        input_size = check_int("input_size", input_size)
        check_choice("kind", kind, ("gru", "lstm"))
        self.bidirectional = check_bool("bidirectional", bidirectional)
        layer = nn.GRU if kind == "gru" else nn.LSTM
        self.rnn = layer(input_size, check_int("hidden_size", hidden_size),
                         check_int("num_layers", num_layers), batch_first=True,
                         bidirectional=bidirectional)
        width = hidden_size * (2 if bidirectional else 1)
        self.pool = Pool(pool, width)
        self.head = nn.Linear(width, num_classes)

    def features(self, x: PackedSequence) -> Tensor:
        """The pooled vector of each sequence, (batch, width), before the linear head."""
        if not isinstance(x, PackedSequence):
            raise TypeError(f"x must be a PackedSequence (use classify.collate), "
                            f"got {type(x).__name__}")
        if self.embed is not None:
            if x.data.dtype != torch.long:
                raise TypeError(f"this model embeds ids, so x must hold int64 ids, "
                                f"got {x.data.dtype}")
            x = PackedSequence(self.embed(x.data), x.batch_sizes, x.sorted_indices,
                               x.unsorted_indices)
        output, state = self.rnn(x)
        h_n = state[0] if isinstance(state, tuple) else state      # an LSTM's (h_n, c_n)
        return self.pool(output, h_n, self.bidirectional)

    def forward(self, x: PackedSequence) -> Tensor:
        return self.head(self.features(x))


@torch.no_grad()
def predict_logits(model: nn.Module, sequences: Sequence, batch_size: int = 1024) -> Tensor:
    """The model's logits for every sequence, (len(sequences), classes), in their order.

    Runs in eval mode without gradients, `batch_size` sequences at a time, and leaves the
    model in the mode it came in.
    """
    if isinstance(sequences, (str, bytes)) or not isinstance(sequences, Sequence) \
            or not sequences:
        raise ValueError("sequences must be a non-empty list of sequences")
    batch_size = check_int("batch_size", batch_size)
    with evaluating(model) as device:
        out = [model(collate([(s, 0) for s in sequences[i:i + batch_size]])[0].to(device))
               for i in range(0, len(sequences), batch_size)]
    return torch.cat(out).cpu()
