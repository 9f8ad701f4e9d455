"""Text for character-level models: the shipped corpus, a vocabulary, batches, the loss.

    text = load_text()                          # CPython source, shipped with the package
    vocab = CharVocab(text)
    ids = vocab.encode(text)                    # int64 (N,)
    batches = char_batches(ids, 32, 64)         # a function giving random (input, target)
    streams = stream_batches(ids, 32, 64)       # consecutive chunks, for stateful training
    loss = lm_loss(model(x), y)                 # mean cross-entropy per character, in nats
"""

from __future__ import annotations

import numbers
from importlib import resources

import numpy as np
import torch
from torch import Tensor, nn

from rnnbook.checks import check_int

__all__ = ["CharVocab", "char_batches", "lm_loss", "load_text", "stream_batches"]


def load_text(name: str = "python_stdlib") -> str:
    """A text corpus shipped with the package. See rnnbook/datasets/README.md."""
    available = sorted(p.name[:-4] for p in resources.files("rnnbook.datasets").iterdir()
                       if p.name.endswith(".txt"))
    if name not in available:
        raise ValueError(f"unknown corpus {name!r}; available: {available}")
    return resources.files("rnnbook.datasets").joinpath(f"{name}.txt").read_text("utf-8")


class CharVocab:
    """A character vocabulary: `encode` text to ids and `decode` ids back to text."""

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"text must be a non-empty str to collect the characters from, "
                            f"got {type(text).__name__}")
        if not text:
            raise ValueError("text must be a non-empty str to collect the characters from, "
                             "got ''")
        self.chars = sorted(set(text))
        self.index = {ch: i for i, ch in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> Tensor:
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        unknown = sorted(set(text) - self.index.keys())
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {unknown[:10]!r}")
        return torch.tensor([self.index[ch] for ch in text], dtype=torch.long)

    def decode(self, ids) -> str:
        if isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
            raise TypeError(f"ids must be a sequence of ints, got {type(ids).__name__}")
        ids = ids.tolist() if isinstance(ids, Tensor) else list(ids)
        bad = [i for i in ids if isinstance(i, (bool, np.bool_))
               or not (isinstance(i, numbers.Integral) and 0 <= i < len(self.chars))]
        if bad:
            raise ValueError(f"ids must be ints in 0..{len(self.chars) - 1}, got {bad[:10]}")
        return "".join(self.chars[int(i)] for i in ids)

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters)"


def char_batches(ids: Tensor, batch_size: int, seq_len: int,
                 generator: torch.Generator | None = None):
    """A function returning random (input, target) windows of a long id sequence.

    Targets are the inputs shifted by one character. Use it as `fit`'s `batches`. Without a
    generator (`rnnbook.generator(k)`), the windows follow the global seed.
    """
    if not isinstance(ids, Tensor) or ids.dim() != 1 or ids.dtype != torch.long:
        raise TypeError("ids must be a 1-D int64 tensor, as CharVocab.encode returns")
    batch_size, seq_len = check_int("batch_size", batch_size), check_int("seq_len", seq_len)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, "
                        f"got {type(generator).__name__}")
    if len(ids) <= seq_len + 1:
        raise ValueError(f"ids must be longer than seq_len + 1 = {seq_len + 1}, "
                         f"got {len(ids)} ids")

    def batch():
        starts = torch.randint(0, len(ids) - seq_len - 1, (batch_size,), generator=generator)
        chunk = ids[starts[:, None] + torch.arange(seq_len + 1)]
        return chunk[:, :-1], chunk[:, 1:]

    return batch


def stream_batches(ids: Tensor, batch_size: int, seq_len: int) -> list[tuple[Tensor, Tensor]]:
    """The corpus laid out as `batch_size` parallel streams, cut into consecutive chunks.

    Row b of every batch continues row b of the batch before it, so a recurrent state
    carried from one batch to the next (`fit(..., stateful=True)`) has read the text that
    comes just before. The ids are cut into batch_size equal streams (the few left over are
    dropped), and each stream into chunks of seq_len inputs with their targets one
    character ahead. Returns the list of (input, target) pairs, each (batch_size, seq_len),
    in order.
    """
    if not isinstance(ids, Tensor) or ids.dim() != 1 or ids.dtype != torch.long:
        raise TypeError("ids must be a 1-D int64 tensor, as CharVocab.encode returns")
    batch_size, seq_len = check_int("batch_size", batch_size), check_int("seq_len", seq_len)
    per_stream = (len(ids) - 1) // batch_size
    chunks = per_stream // seq_len
    if chunks < 1:
        raise ValueError(f"{len(ids)} ids cannot fill {batch_size} streams of at least "
                         f"seq_len + 1 = {seq_len + 1} ids")
    inputs = ids[:batch_size * per_stream].view(batch_size, per_stream)
    targets = ids[1:batch_size * per_stream + 1].view(batch_size, per_stream)
    return [(inputs[:, k * seq_len:(k + 1) * seq_len], targets[:, k * seq_len:(k + 1) * seq_len])
            for k in range(chunks)]


def lm_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean cross-entropy in nats over every position: the loss for `fit` with a CharLM.

    logits (B, T, V) and targets (B, T), or what CharLM returns, (logits, state).
    """
    if isinstance(logits, tuple):
        logits = logits[0]
    if not isinstance(logits, Tensor) or logits.dim() != 3:
        raise ValueError(f"logits must be (batch, time, vocab), got "
                         f"{tuple(logits.shape) if isinstance(logits, Tensor) else logits!r}")
    if not isinstance(targets, Tensor) or tuple(targets.shape) != tuple(logits.shape[:2]):
        raise ValueError(f"targets must be (batch, time) = {tuple(logits.shape[:2])}, like "
                         f"the logits without their last dimension, got "
                         f"{tuple(targets.shape) if isinstance(targets, Tensor) else targets!r}")
    if targets.dtype != torch.long:
        raise TypeError(f"targets must hold class ids (int64), got dtype {targets.dtype}")
    if targets.numel() and not 0 <= int(targets.min()) <= int(targets.max()) < logits.size(-1):
        raise ValueError(f"targets must be ids in 0..{logits.size(-1) - 1}, got "
                         f"{int(targets.min())}..{int(targets.max())}")
    return nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)),
                                       targets.reshape(-1))
