"""Small models that the chapters train: a recurrent layer with a linear head.

    model = SequenceModel("lstm", input_size=2, hidden_size=64, output_size=1)
    y_hat = model(x)                  # x (B, T, I) -> (B, 1), from the last hidden state

    lm = CharLM(len(vocab), hidden_size=128, kind="gru")
    logits, state = lm(ids)           # ids (B, T) -> logits (B, T, V)
    text = lm.sample(vocab, "def ", 200, temperature=0.8)

`kind` is "rnn" (tanh), "irnn" (ReLU with identity recurrent weights, Le et al. 2015),
"lstm", "gru" or "cho_gru" (rnnbook.kinds). By default the layers are torch.nn's, which
are faster; pass `impl="rnnbook"` for the book's own, which the tests prove equal.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnbook.checks import check_bool, check_choice, check_float, check_int
from rnnbook.kinds import check_kind
from rnnbook.train import evaluating

__all__ = ["CharLM", "SequenceModel", "recurrent_layer"]


def recurrent_layer(kind: str, input_size: int, hidden_size: int, num_layers: int = 1,
                    impl: str = "torch", forget_bias: float | None = None,
                    **kwargs) -> nn.Module:
    """A batch-first recurrent layer of the given kind (see `rnnbook.kinds.KINDS`).

    impl: "torch" for torch.nn's layer, "rnnbook" for the book's own.
    forget_bias: for an LSTM, set the forget-gate biases so that their sum
    (bias_ih + bias_hh) equals this value at initialisation (Jozefowicz et al. 2015
    recommend 1).
    """
    spec = check_kind(kind)
    check_choice("impl", impl, ("torch", "rnnbook"))
    input_size, hidden_size = check_int("input_size", input_size), \
        check_int("hidden_size", hidden_size)
    num_layers = check_int("num_layers", num_layers)     # NumPy integers become ints
    if forget_bias is not None:
        if kind != "lstm":
            raise ValueError(f"forget_bias applies to an LSTM only, not to kind={kind!r}")
        forget_bias = check_float("forget_bias", forget_bias)
    cls = spec.layer if impl == "rnnbook" else spec.torch_layer
    if cls is None:
        raise ValueError(f"torch.nn has no layer of kind {kind!r}: pass impl='rnnbook'")
    layer = cls(input_size, hidden_size, num_layers, batch_first=True,
                **spec.options, **kwargs)
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
        self.kind = kind
        self.every_step = check_bool("every_step", every_step)
        self.squeeze = check_bool("squeeze", squeeze)
        output_size = check_int("output_size", output_size)
        if self.squeeze and output_size != 1:
            raise ValueError(f"squeeze=True needs output_size=1, got {output_size}")
        self.rnn = recurrent_layer(kind, input_size, hidden_size, num_layers, impl, **kwargs)
        features = (getattr(self.rnn, "proj_size", 0) or hidden_size) * \
            (2 if self.rnn.bidirectional else 1)
        self.head = nn.Linear(features, output_size)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 3:
            raise ValueError(f"x must be a tensor (batch, time, features), got "
                             f"{tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__}")
        if x.size(-1) != self.rnn.input_size:
            raise ValueError(f"x must have input_size={self.rnn.input_size} features in its "
                             f"last dimension, got shape {tuple(x.shape)}")
        if x.size(1) == 0:
            raise ValueError(f"x must hold at least one step, got shape {tuple(x.shape)}")
        out, _ = self.rnn(x)
        y = self.head(out if self.every_step else out[:, -1])
        return y.squeeze(-1) if self.squeeze else y


class CharLM(nn.Module):
    """A character language model: embedding, recurrent layer, linear read-out."""

    def __init__(self, vocab_size: int, hidden_size: int = 128, kind: str = "lstm",
                 num_layers: int = 1, embedding_size: int | None = None,
                 impl: str = "torch", **kwargs) -> None:
        super().__init__()
        vocab_size = check_int("vocab_size", vocab_size)
        hidden_size = check_int("hidden_size", hidden_size)
        embedding_size = (min(hidden_size, 64) if embedding_size is None
                          else check_int("embedding_size", embedding_size))
        self.kind = kind
        self.embed = nn.Embedding(vocab_size, embedding_size)
        self.rnn = recurrent_layer(kind, embedding_size, hidden_size, num_layers, impl,
                                   **kwargs)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: Tensor, state=None):
        """ids (B, T) of int64 -> logits (B, T, vocab_size), and the final state."""
        if not isinstance(ids, Tensor) or ids.dtype != torch.long or ids.dim() != 2:
            got = (ids.dtype, tuple(ids.shape)) if isinstance(ids, Tensor) else ids
            raise ValueError(f"ids must be an int64 tensor of shape (batch, time), got {got!r}")
        if ids.size(1) == 0:
            raise ValueError(f"ids must hold at least one step, got shape {tuple(ids.shape)}")
        if ids.numel() and not 0 <= int(ids.min()) <= int(ids.max()) < self.embed.num_embeddings:
            raise ValueError(f"ids must lie in 0..{self.embed.num_embeddings - 1}, the "
                             f"vocabulary of this model, got {int(ids.min())}..{int(ids.max())}")
        out, state = self.rnn(self.embed(ids), state)
        return self.head(out), state

    @torch.no_grad()
    def sample(self, vocab, prompt: str, length: int, temperature: float = 1.0,
               generator: torch.Generator | None = None) -> str:
        """Continue `prompt` by `length` characters, sampling from softmax(logits / T)."""
        if not all(hasattr(vocab, name) for name in ("encode", "decode", "__len__")):
            raise TypeError(f"vocab must be the CharVocab the model was trained with, "
                            f"got {type(vocab).__name__}")
        if len(vocab) != self.embed.num_embeddings:
            raise ValueError(f"vocab has {len(vocab)} characters but this model was built "
                             f"for {self.embed.num_embeddings}: pass the vocabulary it was "
                             f"trained with")
        temperature = check_float("temperature", temperature, above=0)
        length = check_int("length", length, minimum=0)
        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be a non-empty str, got {type(prompt).__name__}")
        if not prompt:
            raise ValueError("prompt must be a non-empty str, got ''")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, "
                            f"got {type(generator).__name__}")
        with evaluating(self) as device:
            logits, state = self(vocab.encode(prompt).to(device)[None])
            out = []
            for _ in range(length):
                probs = torch.softmax(logits[0, -1] / temperature, dim=-1)
                nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(device)
                out.append(int(nxt))
                logits, state = self(nxt[None], state)
        return prompt + vocab.decode(out)
