"""Small models that the chapters train: a recurrent layer with a linear head.

    model = SequenceModel("lstm", input_size=2, hidden_size=64, output_size=1)
    y_hat = model(x)                  # x (B, T, I) -> (B, 1), from the last hidden state

    lm = CharLM(len(vocab), hidden_size=128, kind="gru")
    logits, state = lm(ids)           # ids (B, T) -> logits (B, T, V)
    text = lm.sample(vocab, "def ", 200, temperature=0.8)

`kind` is "rnn" (tanh), "irnn" (ReLU with identity recurrent weights, Le et al. 2015),
"lstm" or "gru". By default the layers are torch.nn's, which are faster; pass
`impl="rnnbook"` for the book's own, which the tests prove equal.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnbook import cells

KINDS = ("rnn", "irnn", "lstm", "gru")


def recurrent_layer(kind: str, input_size: int, hidden_size: int, num_layers: int = 1,
                    impl: str = "torch", forget_bias: float | None = None,
                    **kwargs) -> nn.Module:
    """A batch-first recurrent layer of the given kind.

    forget_bias: for an LSTM, set the forget-gate biases so that their sum
    (bias_ih + bias_hh) equals this value at initialisation (Jozefowicz et al. 2015
    recommend 1).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if impl not in ("torch", "rnnbook"):
        raise ValueError(f"impl must be 'torch' or 'rnnbook', got {impl!r}")
    if forget_bias is not None and kind != "lstm":
        raise ValueError(f"forget_bias applies to an LSTM only, not to kind={kind!r}")
    module = nn if impl == "torch" else cells
    if kind in ("rnn", "irnn"):
        layer = module.RNN(input_size, hidden_size, num_layers, batch_first=True,
                           nonlinearity="relu" if kind == "irnn" else "tanh", **kwargs)
    else:
        layer = getattr(module, kind.upper())(input_size, hidden_size, num_layers,
                                              batch_first=True, **kwargs)
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if kind == "irnn" and name.startswith("weight_hh"):
                p.copy_(torch.eye(hidden_size))           # identity recurrence
            if kind == "irnn" and name.startswith("bias"):
                p.zero_()
            if forget_bias is not None and name.startswith("bias"):
                p[hidden_size:2 * hidden_size] = forget_bias / 2  # ih + hh = forget_bias
    return layer


class SequenceModel(nn.Module):
    """Read a whole sequence, then predict from the last hidden state: (B, T, I) -> (B, O).

    With `every_step=True` it predicts at every step instead: (B, T, I) -> (B, T, O).
    A regression target of shape (B,) is matched by output_size=1 and `squeeze=True`.
    """

    def __init__(self, kind: str, input_size: int, hidden_size: int, output_size: int,
                 num_layers: int = 1, every_step: bool = False, squeeze: bool = False,
                 impl: str = "torch", **kwargs) -> None:
        super().__init__()
        self.kind, self.every_step, self.squeeze = kind, every_step, squeeze
        self.rnn = recurrent_layer(kind, input_size, hidden_size, num_layers, impl, **kwargs)
        self.head = nn.Linear(hidden_size * (2 if self.rnn.bidirectional else 1), output_size)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 3:
            raise ValueError(f"x must be (batch, time, features), got {tuple(x.shape)}")
        out, _ = self.rnn(x)
        y = self.head(out if self.every_step else out[:, -1])
        return y.squeeze(-1) if self.squeeze else y


class CharLM(nn.Module):
    """A character language model: embedding, recurrent layer, linear read-out."""

    def __init__(self, vocab_size: int, hidden_size: int = 128, kind: str = "lstm",
                 num_layers: int = 1, embedding_size: int | None = None,
                 impl: str = "torch", **kwargs) -> None:
        super().__init__()
        embedding_size = embedding_size or min(hidden_size, 64)
        self.kind = kind
        self.embed = nn.Embedding(vocab_size, embedding_size)
        self.rnn = recurrent_layer(kind, embedding_size, hidden_size, num_layers, impl,
                                   **kwargs)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: Tensor, state=None):
        """ids (B, T) of int64 -> logits (B, T, vocab_size), and the final state."""
        if ids.dtype != torch.long or ids.dim() != 2:
            raise ValueError(f"ids must be int64 of shape (batch, time), "
                             f"got {ids.dtype} {tuple(ids.shape)}")
        out, state = self.rnn(self.embed(ids), state)
        return self.head(out), state

    @torch.no_grad()
    def sample(self, vocab, prompt: str, length: int, temperature: float = 1.0,
               generator: torch.Generator | None = None) -> str:
        """Continue `prompt` by `length` characters, sampling from softmax(logits / T)."""
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature!r}")
        if not prompt:
            raise ValueError("prompt must contain at least one character")
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        ids = vocab.encode(prompt).to(device)[None]
        logits, state = self(ids)
        out = []
        for _ in range(length):
            probs = torch.softmax(logits[0, -1] / temperature, dim=-1)
            nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(device)
            out.append(int(nxt))
            logits, state = self(nxt[None], state)
        self.train(was_training)
        return prompt + vocab.decode(out)


def char_batches(ids: Tensor, batch_size: int, seq_len: int,
                 generator: torch.Generator | None = None):
    """A function returning random (input, target) windows of a long id sequence.

    Targets are the inputs shifted by one character. Use it as `fit`'s `batches`.
    """
    if ids.dim() != 1 or len(ids) <= seq_len + 1:
        raise ValueError(f"ids must be 1-D and longer than seq_len + 1 = {seq_len + 1}, "
                         f"got shape {tuple(ids.shape)}")

    def batch():
        starts = torch.randint(0, len(ids) - seq_len - 1, (batch_size,), generator=generator)
        idx = starts[:, None] + torch.arange(seq_len + 1)
        chunk = ids[idx]
        return chunk[:, :-1], chunk[:, 1:]

    return batch


def lm_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean cross-entropy over every position: the loss for `fit` with a CharLM.

    CharLM returns (logits, state); this takes the output of the model as a whole.
    """
    if isinstance(logits, tuple):
        logits = logits[0]
    return nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)),
                                       targets.reshape(-1))
