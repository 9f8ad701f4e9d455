# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Deeper and wider
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/rnnbook/rnnbook/blob/main/chapters/08_deeper_wider.ipynb)
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/rnnbook/rnnbook/main?labpath=chapters%2F08_deeper_wider.ipynb)
#
# Chapters 01–07 used one layer, reading in one direction, on batches of sequences that
# all had the same length. Real work needs more: layers stacked on top of each other, a
# second layer reading the sequence backwards, batches of sentences or words of different
# lengths, and regularisation, because a recurrent network with enough units memorises a
# small training set. Each of these is one argument in PyTorch (`num_layers`,
# `bidirectional`, `pack_padded_sequence`, `dropout`), and each comes with a classic bug
# that trains without an error message and gives wrong numbers. This chapter takes them one
# at a time: what the argument computes, checked against a construction by hand; the bug,
# shown and measured; and what it buys on real data, over seeds.
#
# **What you will learn**
#
# - what the second layer of a stack reads, and the layout of `h_n`,
#   `(num_layers · directions, B, H)`: how to pick the last layer's state, and the classic
#   bug of taking `h_n[-1]` from a bidirectional stack;
# - how the number of parameters grows with depth, and what two and three layers buy on a
#   real task (words of six languages), over seeds, and at what cost in time;
# - what the reverse direction of a bidirectional layer reads, why `output[:, -1]` is the
#   wrong read-out for its half, a task where reading the future wins, and the *leak*: a
#   bidirectional "forecaster" that scores impossibly well because it reads the answer;
# - padding, `pack_padded_sequence` and `enforce_sorted`; a proof that a packed batch
#   gives exactly what each sequence gives alone (also for the book's own layers, in both
#   directions and in stacks); and the padding bug, measured in state error and accuracy;
# - three kinds of dropout: between layers (`nn.LSTM(dropout=...)`), variational (one
#   mask per sequence, Gal & Ghahramani 2016, Keras's `dropout` and `recurrent_dropout`)
#   and weight dropout on $W_{hh}$ (Merity et al. 2018), the last two built in
#   `rnnbook.dropout`; and what each does to the gap between training and validation
#   loss of a model that over-fits.

# %%
# On Colab, install the book's package first. Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "rnnbook[data] @ git+https://github.com/rnnbook/rnnbook"], check=True)

# %%
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pad_packed_sequence,
    pad_sequence,
)

import rnnbook
from rnnbook import CharVocab, fit, gates, seed_everything
from rnnbook.classify import LANGUAGES, collate, load_language_words
from rnnbook.compare import param_count
from rnnbook.dropout import DropoutLSTM, DropoutRNN, LockedDropout

F64 = torch.float64
torch.set_num_threads(1)          # tiny models: one thread is faster and repeatable


def below(value, bound=1e-12):
    """A gap that should be rounding error, shown as a bound: its low digits change from
    machine to machine, the bound does not."""
    return f"below {bound:.0e}" if value < bound else f"{value:.1e}, NOT below {bound:.0e}"


def gap(a, b):
    """The largest absolute difference between two tensors."""
    return (a - b).abs().max().item()


# %% [markdown]
# ## Stacking layers
#
# A recurrent layer turns a sequence of inputs $x_1, \dots, x_T$ into a sequence of hidden
# states $h^{(1)}_1, \dots, h^{(1)}_T$. Nothing stops us from treating that output as the
# input sequence of a second layer, and so on:
#
# $$h^{(\ell)}_t = \operatorname{cell}^{(\ell)}\big(h^{(\ell-1)}_t,\; h^{(\ell)}_{t-1}\big),
# \qquad h^{(0)}_t = x_t .$$
#
# Layer $\ell$ reads, at step $t$, the *output of the layer below at the same step*, and its
# own state from the step before. Each layer has its own weights; only the first has input
# size $I$, the others read $H$ numbers (or $2H$ if the layer below is bidirectional). This
# is the "stacked" or "deep" RNN of Graves, Mohamed & Hinton (2013); Pascanu et al. (2014)
# discuss other places where depth can go (inside the transition from $h_{t-1}$ to $h_t$,
# or in the read-out), but stacking is what `num_layers` means in every framework.
#
# The check: a two-layer `nn.LSTM` must equal two one-layer LSTMs run one after the other,
# the second fed the first's whole output sequence, when the weights `*_l1` of the stack
# are copied into the second one's `*_l0`. We work in double precision, so the only
# difference allowed is rounding.

# %% tags=["nbval-check-output"]
def one_layer_of(stack, layer, direction=""):
    """A one-layer LSTM holding the weights of layer `layer` of `stack` (all in float64)."""
    suffix = f"_l{layer}{direction}"
    single = nn.LSTM(getattr(stack, "weight_ih" + suffix).shape[1], stack.hidden_size,
                     batch_first=stack.batch_first, dtype=F64)
    single.load_state_dict({name.replace(suffix, "_l0"): p for name, p in stack.named_parameters()
                            if name.endswith(suffix)})
    return single


seed_everything(0)
stack = nn.LSTM(3, 8, num_layers=2, batch_first=True, dtype=F64)
x = torch.randn(4, 10, 3, dtype=F64)                  # (B, T, I), batch_first
out, (h_n, c_n) = stack(x)

first, second = one_layer_of(stack, 0), one_layer_of(stack, 1)
out1, (h1, c1) = first(x)
out2, (h2, c2) = second(out1)                         # layer 2 reads layer 1's outputs
print(f"shapes: output {tuple(out.shape)}, h_n {tuple(h_n.shape)}, c_n {tuple(c_n.shape)}")
print(f"output of the stack vs layer 2 fed layer 1's outputs: {below(gap(out, out2))}")
print(f"h_n[0] vs layer 1's final state: {below(gap(h_n[0], h1[0]))}; "
      f"h_n[1] vs layer 2's: {below(gap(h_n[1], h2[0]))}")
assert gap(out, out2) < 1e-12 and gap(h_n, torch.cat([h1, h2])) < 1e-12
assert gap(c_n, torch.cat([c1, c2])) < 1e-12
assert out.shape == (4, 10, 8) and h_n.shape == (2, 4, 8)

# %% [markdown]
# Two things to notice. The stack's `output` is the *last* layer's output only: the
# intermediate sequence `out1` is consumed inside. And `h_n` holds one final state per
# layer, stacked along its first dimension, **with the batch in the middle even though we
# asked for `batch_first=True`**: `batch_first` applies to `input` and `output`, never to
# `h_n` and `c_n`.
#
# ### The layout of `h_n`, and a classic bug
#
# With `D` directions (`D = 2` for a bidirectional layer, next section) and `L` layers,
# `h_n` has shape $(L \cdot D, B, H)$ and its rows go layer by layer, and within a layer,
# forward before backward: `h_n.view(L, D, B, H)[layer, direction]`. So `h_n[-1]` is the
# last layer's state only when `D = 1`.
#
# > **Common mistake.** Many tutorials and forum answers read `h_n[-1]` as "the final state
# > of the last layer" and feed it to the classifier, also for a bidirectional stack. There,
# > `h_n[-1]` is the last layer's *backward* direction only: the classifier sees half of
# > the last layer, and from the direction that finished at step 1. The last layer is
# > `h_n[-2:]`, or `h_n.view(L, D, B, H)[-1]`, forward and backward concatenated.
#
# The cell checks this layout against the output sequence, which cannot be misread: the
# forward half of step $T$ and the backward half of step 1 are the two final states of the
# last layer.

# %% tags=["nbval-check-output"]
L, D, H = 3, 2, 8
seed_everything(0)
bi_stack = nn.LSTM(3, H, num_layers=L, bidirectional=True, batch_first=True, dtype=F64)
out, (h_n, _) = bi_stack(x)
by_layer = h_n.view(L, D, x.size(0), H)              # [layer, direction]
last_forward, last_backward = out[:, -1, :H], out[:, 0, H:]
print(f"output {tuple(out.shape)}, h_n {tuple(h_n.shape)} = (L*D, B, H) = ({L}*{D}, 4, {H})")
print(f"h_n[-1] vs the last layer's backward state: {below(gap(h_n[-1], last_backward))}")
print(f"h_n[-2] vs the last layer's forward state:  {below(gap(h_n[-2], last_forward))}")
print(f"h_n[-1] vs the forward state (the bug's assumption): "
      f"{'different' if gap(h_n[-1], last_forward) > 0.01 else 'equal?'}")
right = torch.cat([by_layer[-1, 0], by_layer[-1, 1]], dim=-1)   # (B, 2H): the last layer
assert gap(h_n[-1], last_backward) < 1e-12 and gap(h_n[-2], last_forward) < 1e-12
assert gap(right, torch.cat([last_forward, last_backward], dim=-1)) < 1e-12
assert gap(h_n[-1], last_forward) > 0.01              # the bug reads something else

# %% [markdown]
# ### Parameters with depth
#
# An LSTM layer-direction with input size $I_\ell$ holds $4(H I_\ell + H^2 + 2H)$ numbers:
# four blocks (three gates and the candidate), each with an input matrix, a recurrent
# matrix and PyTorch's two bias vectors. The first layer has $I_1 = I$; every later layer
# reads the layer below, $I_\ell = D H$. So depth adds
# $D \cdot 4(DH^2 + H^2 + 2H)$ per layer, whatever the input size: with $H = 64$ and
# $I = 16$ a second layer more than doubles a one-layer LSTM. `rnnbook.compare.param_count`
# computes the formula; the table checks it against `numel()`.

# %% tags=["nbval-check-output"]
I, H = 16, 64
print(f"{'layers':>6} | {'one direction':>13} | {'bidirectional':>13}")
for layers in (1, 2, 3):
    counts = []
    for bidirectional in (False, True):
        layer = nn.LSTM(I, H, num_layers=layers, bidirectional=bidirectional)
        counted = sum(p.numel() for p in layer.parameters())
        assert counted == param_count("lstm", I, H, layers, bidirectional)
        counts.append(counted)
    print(f"{layers:6d} | {counts[0]:13,d} | {counts[1]:13,d}")
assert param_count("lstm", I, H, 2) - param_count("lstm", I, H, 1) == 4 * (2 * H * H + 2 * H)
assert param_count("lstm", I, H, 2, True) - param_count("lstm", I, H, 1, True) \
    == 2 * 4 * (2 * H * H + H * H + 2 * H)

# %% [markdown]
# ### Does depth help? Words of six languages
#
# A test bed for the rest of the chapter: frequent words of English, German, Dutch,
# French, Spanish and Portuguese, from the word lists of the `wordfreq` package (Speer
# 2022; code Apache-2.0, data CC BY-SA 4.0), loaded by `rnnbook.classify.load_language_words`
# (words found in two lists are dropped). The task: read a word letter by letter and name
# its language. Chapter 10 studies this task in depth; here it is a small, real,
# variable-length data set: words have 3 to 15 letters, so every batch is ragged, which
# is the subject of the section on variable lengths. For now we pack the batches with
# `rnnbook.classify.collate` and take that on trust; the section checks it.
#
# The classifier embeds each letter, runs a recurrent layer and reads the class from the
# **last layer's final state**, concatenated over directions, picked with the layout above.
# The embedding is applied to the packed ids directly (`packed.data` holds every real
# letter of the batch once), so the layer receives a `PackedSequence` of vectors.

# %%
words, labels = load_language_words(per_language=400)
vocab = CharVocab("".join(words))
ids = [vocab.encode(w) for w in words]
order = rnnbook.numpy_rng(0).permutation(len(words))
val_idx, train_idx = order[:600], order[600:]
lengths = np.array([len(w) for w in words])
print(f"{len(words)} words, {len(vocab)} letters, lengths {lengths.min()} to {lengths.max()} "
      f"(median {np.median(lengths):.0f}); {len(train_idx)} for training, {len(val_idx)} held out")
print("examples:", ", ".join(f"{words[i]} ({LANGUAGES[labels[i]]})" for i in order[:6]))


class WordClassifier(nn.Module):
    """Letters -> embedding -> recurrent layer -> the last layer's final state(s) -> logits.

    `rnn` is any layer with torch.nn's interface (batch_first=True); it reads a
    PackedSequence, so each word is run for exactly its own number of letters."""

    def __init__(self, rnn: nn.Module, n_letters: int, n_classes: int = 6, embed: int = 16):
        super().__init__()
        self.embed = nn.Embedding(n_letters, embed)
        self.rnn = rnn
        self.head = nn.Linear(rnn.hidden_size * (2 if rnn.bidirectional else 1), n_classes)

    def features(self, h_n):
        """The last layer's final state, directions concatenated: (B, D*H)."""
        h_n = h_n[0] if isinstance(h_n, tuple) else h_n            # an LSTM's (h_n, c_n)
        D = 2 if self.rnn.bidirectional else 1
        last = h_n.view(self.rnn.num_layers, D, h_n.size(1), h_n.size(2))[-1]
        return torch.cat(list(last), dim=-1)

    def forward(self, packed_ids: PackedSequence):
        x = packed_ids._replace(data=self.embed(packed_ids.data))   # embed the real letters
        _, h_n = self.rnn(x)
        return self.head(self.features(h_n))


def word_batches(indices, batch_size, seed):
    """A function returning random (packed ids, labels) batches drawn from `indices`."""
    rng = rnnbook.numpy_rng(seed)
    return lambda: collate([(ids[i], labels[i]) for i in rng.choice(indices, batch_size,
                                                                     replace=False)])


def evaluate_on(indices):
    """loss and accuracy of a model on the words `indices`, as `fit` wants them."""
    packed, y = collate([(ids[i], labels[i]) for i in indices])
    def evaluate(model):
        logits = model(packed)
        return {"loss": F.cross_entropy(logits, y), "accuracy": (logits.argmax(1) == y).float().mean()}
    return evaluate


def train_words(model, indices, steps, seed, batch_size=64, lr=1e-2, desc="training"):
    """Adam on batches of `batch_size` words, evaluated on the held-out words at the end."""
    return fit(model, word_batches(indices, batch_size, seed), nn.CrossEntropyLoss(),
               steps=steps, lr=lr, clip_norm=1.0, evaluate=evaluate_on(val_idx),
               eval_every=steps, desc=desc)


def cpu_ms_per_step(model, batch, repeats=10):
    """Median CPU milliseconds of one forward and backward pass on `batch`."""
    packed, y = batch
    times = []
    for _ in range(repeats):
        start = time.process_time()
        F.cross_entropy(model(packed), y).backward()
        times.append(1000 * (time.process_time() - start))
    model.zero_grad()
    return float(np.median(times))


# %% [markdown]
# We train LSTMs of 1, 2 and 3 layers with $H = 32$, three seeds each, for 120 steps of 64
# words, and record the held-out accuracy; and, on one fixed batch of 64 words, the CPU time
# of a forward and backward pass (the median of 10).

# %%
DEPTHS, SEEDS, DEPTH_STEPS = (1, 2, 3), (0, 1, 2), 120
depth_acc, depth_time, depth_models = {}, {}, {}
for depth in DEPTHS:
    for seed in SEEDS:
        seed_everything(seed)
        model = WordClassifier(nn.LSTM(16, 32, num_layers=depth, batch_first=True), len(vocab))
        history = train_words(model, train_idx, DEPTH_STEPS, seed,
                              desc=f"{depth} layer(s), seed {seed}")
        depth_acc[depth, seed] = history.evals[-1]["accuracy"]
        depth_time[depth, seed] = cpu_ms_per_step(model, word_batches(train_idx, 64, 99)())
        depth_models[depth, seed] = model

print(f"{'layers':>6} | held-out accuracy, mean ± sd (ddof=1) | ms of CPU per step")
for depth in DEPTHS:
    acc = [depth_acc[depth, s] for s in SEEDS]
    ms = [depth_time[depth, s] for s in SEEDS]
    print(f"{depth:6d} | {np.mean(acc):.3f} ± {np.std(acc, ddof=1):.3f} "
          f"({', '.join(f'{a:.3f}' for a in acc)}) | {np.mean(ms):5.1f}")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
for depth in DEPTHS:
    acc = [depth_acc[depth, s] for s in SEEDS]
    ms = [depth_time[depth, s] for s in SEEDS]
    ax1.plot([depth] * len(SEEDS), acc, "o", color="C0", alpha=0.6)
    ax1.errorbar(depth + 0.15, np.mean(acc), np.std(acc, ddof=1), fmt="s", color="k", capsize=3)
    ax2.plot([depth] * len(SEEDS), ms, "o", color="C1", alpha=0.6)
ax1.axhline(1 / 6, color="gray", ls=":", lw=1, label="guessing")
ax1.set(xlabel="layers", ylabel="held-out accuracy", xticks=DEPTHS,
        title="accuracy: every seed, mean ± sd")
ax1.legend(frameon=False)
ax2.set(xlabel="layers", ylabel="ms CPU, forward + backward", xticks=DEPTHS, ylim=(0, None),
        title="cost of a training step")
fig.tight_layout()
plt.show()

# %% [markdown]
# At this budget, two layers did about as well as one, and three did worse on average,
# in every seed shift we tried (0 to 5; the table shows the stored run). A deeper stack has more to
# learn and its gradient passes through more layers, so in 120 steps it gets less far.
# The cost per step, meanwhile, grows about in proportion to the number of layers: each
# layer is one more recurrent loop over the sequence. This is not a verdict on depth: on
# large data sets trained for long, stacks of two to five layers are the rule (Graves,
# Mohamed & Hinton 2013 went up to five). It is the answer for a small task at a small
# budget, which is where a new model should start: one layer, then a second if the
# validation loss says the first is too weak.
#
# The asserts hold what was robust over seed shifts 0 to 5, with margin:

# %%
mean_acc = {d: np.mean([depth_acc[d, s] for s in SEEDS]) for d in DEPTHS}
mean_time = {d: np.mean([depth_time[d, s] for s in SEEDS]) for d in DEPTHS}
assert all(depth_acc[d, s] > 0.35 for d in DEPTHS for s in SEEDS)  # far above 1/6
assert mean_time[3] > 1.5 * mean_time[1]                            # depth costs time
assert abs(mean_acc[2] - mean_acc[1]) < 0.06                        # two layers: no gain
assert mean_acc[3] < mean_acc[1]                                    # three: worse here

# %% [markdown]
# ## Bidirectional layers
#
# A forward layer's $h_t$ has read $x_1, \dots, x_t$. For labelling each step of a sequence
# that is complete before we label it (a sentence to tag, a recording to transcribe, a
# word to classify), the steps after $t$ are available too. A **bidirectional** layer
# (Schuster & Paliwal 1997; Graves & Schmidhuber 2005 with LSTMs) runs a second,
# independent layer with its own weights from $x_T$ back to $x_1$, and concatenates the
# two states at every step:
#
# $$\overrightarrow{h}_t = \operatorname{cell}_{\rightarrow}(x_t, \overrightarrow{h}_{t-1}),
# \qquad \overleftarrow{h}_t = \operatorname{cell}_{\leftarrow}(x_t, \overleftarrow{h}_{t+1}),
# \qquad o_t = [\overrightarrow{h}_t; \overleftarrow{h}_t] \in \mathbb{R}^{2H}.$$
#
# So the backward half of $o_t$ has read $x_T, \dots, x_t$: the future and the present.
# The check: the reverse direction equals an ordinary forward LSTM with the `*_reverse`
# weights, run on the sequence flipped in time, its output flipped back.

# %% tags=["nbval-check-output"]
seed_everything(1)
H = 8
bi = nn.LSTM(3, H, bidirectional=True, batch_first=True, dtype=F64)
out, (h_n, _) = bi(x)
forward_only = one_layer_of(bi, 0)
backward_only = one_layer_of(bi, 0, "_reverse")
fwd, _ = forward_only(x)
bwd_flipped, _ = backward_only(x.flip(1))                 # read x_T first
bwd = bwd_flipped.flip(1)                                 # step t back at position t
print(f"forward half vs a forward LSTM: {below(gap(out[..., :H], fwd))}")
print(f"backward half vs a forward LSTM on the flipped sequence: {below(gap(out[..., H:], bwd))}")
assert gap(out[..., :H], fwd) < 1e-12 and gap(out[..., H:], bwd) < 1e-12

# %% [markdown]
# ### Why `output[:, -1]` is the wrong read-out
#
# For a one-direction layer, `output[:, -1]` is the state after the whole sequence, the
# natural summary to classify. For a bidirectional layer, the backward half of
# `output[:, -1]` has read **one step**, $x_T$, and nothing else: it is the backward layer's
# *first* state. The backward direction's summary of the whole sequence sits at
# `output[:, 0, H:]`. The cell proves the first claim by running the backward weights on
# the last step alone, and then asserts the right read-out, which is also what `h_n` holds.

# %% tags=["nbval-check-output"]
one_step, _ = backward_only(x[:, -1:])                    # the backward layer on x_T alone
print(f"output[:, -1, H:] vs the backward layer run on x_T alone: "
      f"{below(gap(out[:, -1, H:], one_step[:, 0]))}")
readout = torch.cat([out[:, -1, :H], out[:, 0, H:]], dim=-1)     # the right read-out
print(f"[output[:, -1, :H]; output[:, 0, H:]] vs [h_n[0]; h_n[1]]: "
      f"{below(gap(readout, torch.cat([h_n[0], h_n[1]], dim=-1)))}")
assert gap(out[:, -1, H:], one_step[:, 0]) < 1e-12
assert gap(readout, torch.cat([h_n[0], h_n[1]], dim=-1)) < 1e-12
assert gap(out[:, -1], readout) > 0.01                   # the naive read-out differs

# %% [markdown]
# ### A task where the future decides
#
# To measure what the backward direction buys, take a tagging task whose answer is in the
# future: a sequence of random symbols from an alphabet of four, and at every step $t$ the
# label is the symbol that will come **two steps later**, $y_t = x_{t+2}$ (the last two
# steps are not scored). A forward layer cannot know $x_{t+2}$ at step $t$, so no forward
# model, however large, can beat guessing, 25%. A bidirectional layer has read it. Both
# models have 16 units per direction and read out every step; two seeds each.

# %%
T_TAG, SYMBOLS = 20, 4


def future_batch(n, seed=None):
    """(one-hot symbols (n, T, 4), labels (n, T-2)): the label at t is the symbol at t+2."""
    g = rnnbook.generator(seed) if seed is not None else None
    symbols = torch.randint(0, SYMBOLS, (n, T_TAG), generator=g)
    return F.one_hot(symbols, SYMBOLS).float(), symbols[:, 2:]


class Tagger(nn.Module):
    """A one-layer LSTM read out at every step; scored on steps 1..T-2 only."""

    def __init__(self, bidirectional):
        super().__init__()
        self.rnn = nn.LSTM(SYMBOLS, 16, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(32 if bidirectional else 16, SYMBOLS)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, :-2]).transpose(1, 2)      # (B, classes, T-2) for the loss


x_tag, y_tag = future_batch(1000, seed=500)
tag_accuracy = {}
for bidirectional in (False, True):
    for seed in (0, 1):
        seed_everything(seed)
        tagger = Tagger(bidirectional)
        fit(tagger, lambda: future_batch(32), nn.CrossEntropyLoss(), steps=250, lr=1e-2,
            desc=f"{'bidirectional' if bidirectional else 'forward'}, seed {seed}")
        with torch.no_grad():
            tag_accuracy[bidirectional, seed] = (tagger.eval()(x_tag).argmax(1) == y_tag
                                                 ).float().mean().item()
for bidirectional in (False, True):
    name = "bidirectional" if bidirectional else "forward only"
    print(f"{name:>13}: held-out accuracy per seed "
          f"{', '.join(f'{tag_accuracy[bidirectional, s]:.3f}' for s in (0, 1))}")

# %% [markdown]
# The forward model stays at guessing, as it must; the bidirectional one tags almost every
# step right. (In the run stored with this notebook the numbers are above; the asserts
# below hold with margin for seed shifts 0 to 5.)

# %%
assert all(tag_accuracy[False, s] < 0.3 for s in (0, 1))          # guessing is 0.25
assert all(tag_accuracy[True, s] > 0.9 for s in (0, 1))

# %% [markdown]
# ### The leak: a bidirectional "forecaster"
#
# Reading the future is a gift for tagging and a disaster for forecasting. A common way to
# train a forecaster is to feed a window $x_1, \dots, x_T$ and ask for a prediction at every
# step, $\hat{y}_t \approx x_{t+1}$. Make that layer bidirectional and the backward half of
# step $t$ has read $x_{t+1}$, the very value it is asked to predict, as the input of step
# $t+1$. Training loss and validation loss fall together, so nothing looks wrong; the
# model simply copies the answer.
#
# We measure it on the yearly sunspot numbers 1700–2008 (`rnnbook.load_sunspots`, from
# statsmodels), standardised with the training years' mean and spread, windows of 30 years,
# the last 80 years held out. Two GRUs with 16 units per direction, the same training (300
# Adam steps on batches of 32 windows); the
# reference is persistence, $\hat{y}_t = x_t$.

# %%
series = rnnbook.load_sunspots().to_numpy()
split = len(series) - 80
scaler = rnnbook.StandardScaler().fit(series[:split])
z = torch.tensor(scaler.transform(series), dtype=torch.float32)


def every_step_windows(values, length=30):
    """All windows of `length` + 1 values: inputs (N, length, 1), targets one step ahead."""
    w = values.unfold(0, length + 1, 1)
    return w[:, :-1, None], w[:, 1:, None]


x_train, y_train = every_step_windows(z[:split])
x_val, y_val = every_step_windows(z[split - 30:])       # targets in the held-out years


class EveryStepForecaster(nn.Module):
    def __init__(self, bidirectional):
        super().__init__()
        self.rnn = nn.GRU(1, 16, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(32 if bidirectional else 16, 1)

    def forward(self, x):
        return self.head(self.rnn(x)[0])


def window_batches(batch_size=32):
    """32 training windows drawn at random (from the global generator)."""
    chosen = torch.randint(0, len(x_train), (batch_size,))
    return x_train[chosen], y_train[chosen]


persistence_mse = F.mse_loss(x_val, y_val).item()
leak_mse = {}
for bidirectional in (False, True):
    for seed in (0, 1):
        seed_everything(seed)
        forecaster = EveryStepForecaster(bidirectional)
        fit(forecaster, window_batches, nn.MSELoss(), steps=300, lr=1e-2,
            desc=f"{'bidirectional' if bidirectional else 'forward'}, seed {seed}")
        with torch.no_grad():
            leak_mse[bidirectional, seed] = F.mse_loss(forecaster.eval()(x_val), y_val).item()
print(f"held-out MSE (standardised units), persistence: {persistence_mse:.3f}")
for bidirectional in (False, True):
    name = "bidirectional" if bidirectional else "forward GRU"
    print(f"{name:>13}: {', '.join(f'{leak_mse[bidirectional, s]:.3f}' for s in (0, 1))}")

# %% [markdown]
# The honest forward GRU beats persistence clearly (the eleven-year cycle is learnable).
# The bidirectional model's held-out error is several times smaller again, for both
# seeds and every seed shift we tried (0 to 4; the stored run's numbers are printed
# above): far better than anything that reads only the past can do.
#
# The bidirectional "forecaster" cannot be deployed: to forecast next year we have this
# year's window, and the backward direction's input at step $t+1$ is exactly the number we
# do not have. Fed only the past at test time, its backward half reads nothing useful and
# its predictions are not the ones it was validated with. The score was a leak, not skill.
# A bidirectional layer is fine for forecasting only when it reads a window that ends
# *before* the target, with one prediction from the end of the window, as in chapter 09;
# the rule is the same as for any feature: nothing computed from the target's time or later.

# %%
assert all(leak_mse[False, s] < persistence_mse for s in (0, 1))   # honest skill
assert max(leak_mse[True, s] for s in (0, 1)) < 0.35 * min(leak_mse[False, s] for s in (0, 1))

# %% [markdown]
# ## Variable lengths: padding and packing
#
# A batch is a rectangle: $B$ sequences of $T$ steps. Words, sentences and recordings have
# different lengths, so the shorter ones are **padded**, usually with zeros at the end
# ("right padding"), up to the longest. A recurrent layer that is handed the padded
# rectangle runs every sequence for $T$ steps and reads the padding as if it were data.
# The output at the real steps is still right (the padding comes after them), but the final
# state `h_n` of a shorter sequence is the state after its padding, not after its last
# letter.
#
# PyTorch's answer is the `PackedSequence`: `pack_padded_sequence(padded, lengths)` sorts
# the sequences by length, longest first, and stores their steps interleaved, step 1 of
# every sequence, then step 2 of every sequence still running, and so on, with
# `batch_sizes` saying how many sequences run at each step. A layer given a packed batch
# computes at step $t$ only the first `batch_sizes[t]` rows, so each sequence stops at its
# own end, and `h_n` holds each sequence's state after its own last step.

# %% tags=["nbval-check-output"]
sequences = [torch.arange(1.0, 6.0), torch.arange(11.0, 13.0), torch.arange(21.0, 25.0)]
padded = pad_sequence(sequences, batch_first=True)                # (B=3, T=5), zeros at the end
packed = pack_padded_sequence(padded, torch.tensor([5, 2, 4]), batch_first=True,
                              enforce_sorted=False)
print("padded:\n", padded)
print("packed.data:", packed.data.tolist())
print("batch_sizes:", packed.batch_sizes.tolist(), " sorted_indices:",
      packed.sorted_indices.tolist())
unpacked, lengths_back = pad_packed_sequence(packed, batch_first=True)
assert torch.equal(unpacked, padded) and lengths_back.tolist() == [5, 2, 4]
assert packed.batch_sizes.tolist() == [3, 3, 2, 2, 1]
assert packed.data[:3].tolist() == [1.0, 21.0, 11.0]      # longest first: 5, 4, then 2 steps

# %% [markdown]
# `enforce_sorted=False` lets us pass the sequences in any order: the packing sorts them
# and remembers the permutation in `sorted_indices`, and every output (`output`, `h_n`,
# `c_n`) comes back **in the original order**. With the default `enforce_sorted=True`,
# unsorted lengths raise an error (sorting yourself is then your job; it exists for ONNX
# export). The next cell proves the central claim: a packed batch of unequal, unsorted
# sequences gives, for each sequence, exactly the outputs and final states that the
# sequence gives when run alone, for torch.nn's LSTM and for the book's own `rnnbook.LSTM`,
# with two layers and both directions, in double precision.

# %% tags=["nbval-check-output"]
seed_everything(2)
torch_layer = nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True, dtype=F64)
book_layer = rnnbook.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True, dtype=F64)
book_layer.load_state_dict(torch_layer.state_dict())
ragged = [torch.randn(n, 3, dtype=F64) for n in (4, 7, 2, 5)]     # not sorted
lens = torch.tensor([len(s) for s in ragged])
batch = pack_padded_sequence(pad_sequence(ragged, batch_first=True), lens, batch_first=True,
                             enforce_sorted=False)
worst = {"torch.nn": 0.0, "rnnbook": 0.0, "rnnbook vs torch.nn": 0.0}
results = {}
for name, layer in (("torch.nn", torch_layer), ("rnnbook", book_layer)):
    packed_out, (h_b, c_b) = layer(batch)
    out_b, _ = pad_packed_sequence(packed_out, batch_first=True)
    results[name] = (out_b, h_b, c_b)
    for i, s in enumerate(ragged):
        out_i, (h_i, c_i) = layer(s[None])                     # the sequence alone
        worst[name] = max(worst[name], gap(out_b[i, :len(s)], out_i[0]),
                          gap(h_b[:, i], h_i[:, 0]), gap(c_b[:, i], c_i[:, 0]))
        assert (out_b[i, len(s):] == 0).all()                  # padding positions stay 0
worst["rnnbook vs torch.nn"] = max(gap(a, b) for a, b in
                                   zip(results["torch.nn"], results["rnnbook"], strict=True))
for name, value in worst.items():
    print(f"packed batch vs each sequence alone, {name:>19}: {below(value)}")
assert max(worst.values()) < 1e-12
try:
    pack_padded_sequence(pad_sequence(ragged, batch_first=True), lens, batch_first=True)
except RuntimeError:
    print(f"enforce_sorted=True with lengths {lens.tolist()}: RuntimeError, as documented")
else:
    raise AssertionError("unsorted lengths were accepted with enforce_sorted=True")

# %% [markdown]
# The book's layers accept a `PackedSequence` like torch.nn's, and `tests/test_layers.py`
# checks them against torch.nn on packed input for every kind, layer count and direction;
# the cell above is one of those checks, done in the open.
#
# > **Common mistake.** `pack_padded_sequence(padded, lengths)` assumes the padded tensor is
# > `(T, B, ...)`. Code written with `batch_first=True` layers often forgets to pass
# > `batch_first=True` to the packing function too. It is often said that PyTorch then
# > fails with an error about the lengths. It does in some cases, such as sorted lengths
# > with the default `enforce_sorted=True` and $B \ne T$. But when the batch is as large as
# > the longest sequence, or with `enforce_sorted=False` (what most code uses for unsorted
# > batches) and fewer sequences than steps, nothing complains, and the layer reads time
# > as batch and batch as time.
#
# The cell shows the three cases with the installed PyTorch: four sequences of lengths
# 4, 3, 2, 1 padded batch-first into a $4 \times 4$ rectangle; the four unsorted sequences of
# the cell above ($B = 4$, $T = 7$) with `enforce_sorted=False`; and the same, sorted, with
# the default.

# %% tags=["nbval-check-output"]
seqs4 = [torch.randn(n, 3, dtype=F64, generator=rnnbook.generator(n)) for n in (4, 3, 2, 1)]
square = pad_sequence(seqs4, batch_first=True)                       # (B=4, T=4, 3)
lens4 = torch.tensor([4, 3, 2, 1])
right_way = pack_padded_sequence(square, lens4, batch_first=True)
wrong_way = pack_padded_sequence(square, lens4)                      # no error raised
_, (h_right, _) = torch_layer(right_way)
_, (h_wrong, _) = torch_layer(wrong_way)
print(f"packed data, right vs forgotten batch_first: "
      f"{'identical' if torch.equal(right_way.data, wrong_way.data) else 'different'}")
print(f"final states: {'differ by more than 0.1' if gap(h_right, h_wrong) > 0.1 else 'close?'}")
assert not torch.equal(right_way.data, wrong_way.data) and gap(h_right, h_wrong) > 0.1
rect = pad_sequence(ragged, batch_first=True)                       # (B=4, T=7, 3)
silent = pack_padded_sequence(rect, lens, enforce_sorted=False)      # no error either
proper = pack_padded_sequence(rect, lens, batch_first=True, enforce_sorted=False)
print(f"B=4, T=7, enforce_sorted=False: accepted, with {len(silent.data)} rows of data for "
      f"{int(lens.sum())} real steps (the right packing has {len(proper.data)})")
assert len(silent.data) != len(proper.data) == int(lens.sum())
by_length = torch.argsort(lens, descending=True)
try:
    pack_padded_sequence(rect[by_length], lens[by_length])           # sorted, the default
except RuntimeError:
    print("B=4, T=7, sorted, enforce_sorted=True: RuntimeError")
else:
    raise AssertionError("a (B, T) batch packed as (T, B) with B != T was accepted")

# %% [markdown]
# ### The padding bug, measured
#
# What does a forgotten packing cost? Take the word classifiers trained above (one layer,
# packed batches) and evaluate them on the held-out words as an unpacked, right-padded
# batch: the embeddings of the padding are zeros, and `h_n` is read after the padding.
# First the state itself, then the accuracy.

# %%
val_packed, val_y = collate([(ids[i], labels[i]) for i in val_idx])
val_lengths = torch.tensor(lengths[val_idx])


def padded_forward(model, packed_ids):
    """The classifier with the bug: the embedded batch padded with zeros, not packed."""
    embedded = packed_ids._replace(data=model.embed(packed_ids.data))
    padded_x, _ = pad_packed_sequence(embedded, batch_first=True)     # zeros after each word
    _, h_n = model.rnn(padded_x)
    return model.head(model.features(h_n)), h_n[0][-1]


state_error, acc_packed, acc_padded = {}, [], []
with torch.no_grad():
    for seed in SEEDS:
        model = depth_models[1, seed].eval()
        embedded = val_packed._replace(data=model.embed(val_packed.data))
        _, (h_true, _) = model.rnn(embedded)
        logits_bug, h_bug = padded_forward(model, val_packed)
        error = (h_bug - h_true[-1]).norm(dim=1) / h_true[-1].norm(dim=1)
        for n_pad in range(0, 13):
            chosen = (val_lengths.max() - val_lengths) == n_pad
            if chosen.any():
                state_error.setdefault(n_pad, []).append(error[chosen].mean().item())
        acc_packed.append((model(val_packed).argmax(1) == val_y).float().mean().item())
        acc_padded.append((logits_bug.argmax(1) == val_y).float().mean().item())
print(f"{'padding steps':>13} | relative error of the final state, mean over words and seeds")
for n_pad in sorted(state_error):
    print(f"{n_pad:13d} | {np.mean(state_error[n_pad]):.3f}")
print(f"held-out accuracy, packed: {np.mean(acc_packed):.3f} ± {np.std(acc_packed, ddof=1):.3f}; "
      f"padded, unpacked: {np.mean(acc_padded):.3f} ± {np.std(acc_padded, ddof=1):.3f} "
      f"(mean ± sd over {len(SEEDS)} seeds)")

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
pads = sorted(state_error)
ax.plot(pads, [np.mean(state_error[p]) for p in pads], "o-")
ax.set(xlabel="padding steps read after the word's last letter",
       ylabel="|h_n(padded) - h_n(packed)| / |h_n|",
       title="The padding bug: the final state drifts with every padding step")
ax.set_ylim(0, None)
plt.show()

# %% [markdown]
# The longest held-out words, with no padding, get exactly their true final state. After
# four or more steps of zero input the state differs from the true one by about its own
# length: the layer has moved on from the word towards wherever zero inputs take it. The
# classifier, trained on packed batches, then falls to near guessing (one in six) on the
# held-out words. A model *trained* on padded batches would partly learn to cope, since
# padding is always zeros, but it would spend capacity on that, and its final state would
# still depend on how long the longest word of the batch happened to be. Packing removes
# the problem instead of learning around it.

# %%
assert np.mean(state_error[0]) < 1e-6                       # the longest words: no padding
assert min(state_error[p][s] for p in pads if p >= 4 for s in range(len(SEEDS))) > 0.1
assert all(b < a - 0.1 for a, b in zip(acc_packed, acc_padded, strict=True))

# %% [markdown]
# ## Dropout for recurrent networks
#
# Dropout (Srivastava et al. 2014) zeroes each unit of a layer's input with probability
# $p$ during training and scales the survivors by $1/(1-p)$, so that the expected input is
# unchanged and evaluation needs no correction. For recurrent networks, *where* the masks
# go matters, and the frameworks disagree.
#
# **Between layers.** `nn.LSTM(..., num_layers=2, dropout=p)` applies ordinary dropout to
# the output sequence of every layer except the last, with a fresh mask at every step, and
# never touches the recurrent connection $h_{t-1} \to h_t$. Zaremba, Sutskever & Vinyals
# (2014) argued for exactly that: a fresh mask on $h_{t-1}$ at every step would corrupt
# the memory a little at every step of a long sequence.
#
# > **Common mistake.** `nn.LSTM(input_size, hidden_size, dropout=0.5)` with one layer is
# > written in many tutorials as if it regularised the LSTM. It does nothing: there is no
# > layer above to drop into, and PyTorch only warns. Put an `nn.Dropout` on the output, or
# > use two layers, or one of the dropouts below.

# %% tags=["nbval-check-output"]
seed_everything(3)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    single = nn.LSTM(3, 8, dropout=0.5, dtype=F64)
plain = nn.LSTM(3, 8, dtype=F64)
plain.load_state_dict(single.state_dict())
single.train(), plain.train()
x_seq = torch.randn(10, 4, 3, dtype=F64)
print(f"PyTorch warned {len(caught)} time(s), about num_layers: "
      f"{'num_layers' in str(caught[0].message)}")
print(f"one layer, dropout=0.5, training mode, vs no dropout: "
      f"{below(gap(single(x_seq)[0], plain(x_seq)[0]))}")
assert len(caught) == 1 and "num_layers greater than 1" in str(caught[0].message)
assert gap(single(x_seq)[0], plain(x_seq)[0]) < 1e-12       # identical: nothing was dropped

# %% [markdown]
# **Variational dropout.** Gal & Ghahramani (2016) derived dropout for RNNs as approximate
# Bayesian inference, and the derivation says: draw **one mask per sequence** and use it
# at every step, on the inputs $x_t$ and on the recurrent state $h_{t-1}$ where it enters
# the product $W_{hh} h_{t-1}$. A unit dropped from $h$ is dropped for the whole sequence,
# so the memory is not eroded step by step, and the recurrent weights are regularised too.
# This is what Keras implements: `LSTM(units, dropout=a, recurrent_dropout=b)` masks the
# inputs (rate $a$) and $h_{t-1}$ (rate $b$) with masks drawn once per sequence and shared
# across time. The LSTM's cell $c$ and the GRU's carry $z \odot h_{t-1}$ are not masked.
# (Keras 3 draws a separate mask for each gate block, four for the LSTM and three for the
# GRU; `rnnbook.dropout` draws one for all of them, so a dropped unit of $h_{t-1}$ is
# dropped for every gate. Both are forms of the same idea; we have not measured a
# difference between them.)
#
# `rnnbook.dropout` adds this to the book's layers. The mapping of the popular Keras
# arguments to PyTorch:
#
# | Keras | PyTorch with `rnnbook.dropout` | what is dropped |
# |---|---|---|
# | `LSTM(H, dropout=a)` | `DropoutLSTM(I, H, input_dropout=a)` | $x_t$ of every layer, one mask per sequence |
# | `LSTM(H, recurrent_dropout=b)` | `DropoutLSTM(I, H, recurrent_dropout=b)` | $h_{t-1}$ in $W_{hh} h_{t-1}$, one mask per sequence |
# | `Dropout(p)` between two `LSTM` layers | `nn.LSTM(I, H, num_layers=2, dropout=p)` | the lower layer's output, fresh mask per step |
# | `SpatialDropout1D(p)` | `LockedDropout(p)` | whole features of a sequence |
# | (none) | `DropoutLSTM(I, H, weight_dropout=w)` | entries of $W_{hh}$, one mask per batch |
#
# `nn.LSTM` has no recurrent dropout at all: its cuDNN kernel runs the whole sequence in
# one call and offers no place for a mask on $h_{t-1}$. The book's layers run a Python loop
# over the steps, so they can; they are slower, which is the price.
#
# The figure shows the two kinds of mask for one sequence: `nn.Dropout` applied to a
# sequence tensor draws a fresh mask at every step; a locked mask is one column pattern
# for the whole sequence.

# %%
seed_everything(4)
ones = torch.ones(30, 1, 24)                                  # (T, B=1, units)
fresh = nn.Dropout(0.3)(ones)[:, 0]
locked = LockedDropout(0.3)(ones)[:, 0]
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for ax, mask, title in ((axes[0], fresh, "nn.Dropout: a fresh mask at every step"),
                        (axes[1], locked, "LockedDropout: one mask per sequence")):
    ax.imshow(mask.T > 0, cmap="Greys_r", aspect="auto")
    ax.set(xlabel="time step", ylabel="unit", title=title)
fig.tight_layout()
plt.show()
assert (locked == locked[0]).all() and not (fresh == fresh[0]).all()

# %% [markdown]
# The check of the recurrent mask, in a layer: a ReLU RNN with $W_{ih} = 0$, $W_{hh} = I$
# and no bias copies its state, $h_t = m \odot h_{t-1}$, so with $h_0 = 1$ its outputs are
# $h_t = m^t$. One mask shared by all steps gives each unit either $0$ at every step or
# $(1/(1-p))^t$; a fresh mask at every step would kill more units at every step. And in
# evaluation mode the layer is the plain layer.

# %% tags=["nbval-check-output"]
seed_everything(5)
copier = DropoutRNN(50, 50, nonlinearity="relu", bias=False, dtype=F64, recurrent_dropout=0.5)
with torch.no_grad():
    copier.weight_ih_l0.zero_()
    copier.weight_hh_l0.copy_(torch.eye(50))
h_seq, _ = copier(torch.zeros(6, 20, 50, dtype=F64), torch.ones(1, 20, 50, dtype=F64))
kept = h_seq[0] != 0
same_units = all(torch.equal(h_seq[t] != 0, kept) for t in range(6))
powers = all(torch.equal(h_seq[t][kept], torch.full_like(h_seq[t][kept], 2.0 ** (t + 1)))
             for t in range(6))
print(f"the same units are dropped at all 6 steps: {same_units}; the kept ones are 2^t: {powers}")
assert same_units and powers and 0.35 < kept.double().mean() < 0.65
seed_everything(6)
variational = DropoutLSTM(3, 8, num_layers=2, dtype=F64, input_dropout=0.3,
                          recurrent_dropout=0.3, weight_dropout=0.5)
reference = rnnbook.LSTM(3, 8, num_layers=2, dtype=F64)
reference.load_state_dict(variational.state_dict())
variational.eval()
eval_gap = gap(variational(x_seq)[0], reference(x_seq)[0])
print(f"evaluation mode vs the plain layer with the same weights: {below(eval_gap)}")
assert eval_gap < 1e-12
variational.train()
assert gap(variational(x_seq)[0], variational(x_seq)[0]) > 1e-3    # training: random masks

# %% [markdown]
# **Weight dropout.** Merity, Keskar & Socher's AWD-LSTM (2018) regularises the recurrent
# connection differently: it drops *entries of the matrix* $W_{hh}$ (DropConnect, Wan et al.
# 2013), once per forward call, and runs the layer with the dropped matrix. Every sequence
# in the batch and every step sees the same dropped matrix, and the layer's speed is that
# of an ordinary layer, since the mask is applied once, not at every step. In
# `rnnbook.dropout` it is `weight_dropout=w`; the tests check it against torch.nn's layer
# run with $W_{hh}$ replaced by the same dropped matrix, gradients included.
#
# ### What each dropout does to over-fitting
#
# A setting that over-fits: the word classifier of the first section trained on only 300
# words (50 per language) with a two-layer LSTM of 48 units, evaluated on the 600 held-out
# words. Without dropout it memorises the training words and its held-out loss climbs. We
# compare four regularisers at the same training budget, three seeds each, all with the
# book's `DropoutLSTM` (so that only the dropout differs): none; between layers,
# $p = 0.5$ (`nn.LSTM`'s `dropout`); variational, 0.3 on inputs and recurrent state; and
# weight dropout 0.5 on $W_{hh}$. The measure is the **gap**: held-out loss minus training
# loss, both in evaluation mode.

# %%
small_idx = train_idx[:300]
REGULARISERS = {"none": {}, "between layers": {"dropout": 0.5},
                "variational": {"input_dropout": 0.3, "recurrent_dropout": 0.3},
                "weight (W_hh)": {"weight_dropout": 0.5}}
OVERFIT_SEEDS = (0, 1, 2)
fits = {}
for name, rates in REGULARISERS.items():
    for seed in OVERFIT_SEEDS:
        seed_everything(seed)
        model = WordClassifier(DropoutLSTM(16, 48, num_layers=2, batch_first=True, **rates),
                               len(vocab))
        history = train_words(model, small_idx, 100, seed, desc=f"{name}, seed {seed}")
        with torch.no_grad():
            train_metrics = evaluate_on(small_idx)(model.eval())
        fits[name, seed] = {"train loss": train_metrics["loss"].item(),
                            "train accuracy": train_metrics["accuracy"].item(),
                            "val loss": history.evals[-1]["loss"],
                            "val accuracy": history.evals[-1]["accuracy"]}
        fits[name, seed]["gap"] = fits[name, seed]["val loss"] - fits[name, seed]["train loss"]

print(f"{'dropout':>14} | {'train loss':>10} | {'val loss':>10} | {'gap':>13} | "
      f"{'train acc':>9} | {'val acc':>13}   (mean, ± sd over {len(OVERFIT_SEEDS)} seeds)")
for name in REGULARISERS:
    col = {k: [fits[name, s][k] for s in OVERFIT_SEEDS] for k in fits[name, 0]}
    print(f"{name:>14} | {np.mean(col['train loss']):10.3f} | {np.mean(col['val loss']):10.3f} | "
          f"{np.mean(col['gap']):6.3f} ± {np.std(col['gap'], ddof=1):.3f} | "
          f"{np.mean(col['train accuracy']):9.3f} | {np.mean(col['val accuracy']):6.3f} ± "
          f"{np.std(col['val accuracy'], ddof=1):.3f}")

# %%
fig, ax = plt.subplots(figsize=(8, 3.4))
for k, name in enumerate(REGULARISERS):
    for part, color, dx in (("train loss", "C0", -0.12), ("val loss", "C3", 0.12)):
        values = [fits[name, s][part] for s in OVERFIT_SEEDS]
        ax.plot([k + dx] * len(values), values, "o", color=color, alpha=0.6,
                label=part if k == 0 else None)
        ax.errorbar(k + dx, np.mean(values), np.std(values, ddof=1), color="k", capsize=3)
ax.set_xticks(range(len(REGULARISERS)), list(REGULARISERS))
ax.set(ylabel="cross-entropy (nats)", title="300 training words: training and held-out loss "
       "per seed, mean ± sd (ddof=1)")
ax.legend(frameon=False)
plt.show()

# %% [markdown]
# Without dropout the model learns the 300 training words almost perfectly, and its
# held-out loss is many times its training loss: it is confidently wrong on new
# words. Every kind of dropout narrowed the gap on average over the three seeds, and
# lowered the held-out loss, in every seed shift we tried (0 to 4). Between-layer and
# weight dropout narrowed it by a fifth or so, variational dropout by more than half, in
# every single run, at the price of a higher training loss. Held-out **accuracy**,
# however, did not improve with any of them at this budget: all four stay within a few
# points of each other, inside a seed's spread (the table).
# What dropout bought here is a model that is less over-confident, with a lower held-out
# loss, not one that is right more often. That is a finding about this small setting
# (300 words, 100 steps, rates chosen once and not tuned), not about dropout in general:
# Zaremba et al. (2014), Gal & Ghahramani (2016) and Merity et al. (2018) report large
# gains in held-out perplexity for language models trained for far longer. With three
# seeds we do not rank between-layer against weight dropout.

# %%
def mean_of(name, key):
    return np.mean([fits[name, s][key] for s in OVERFIT_SEEDS])


gaps = {name: [fits[name, s]["gap"] for s in OVERFIT_SEEDS] for name in REGULARISERS}
assert all(fits["none", s]["train accuracy"] > 0.9 for s in OVERFIT_SEEDS)   # it memorises
for name in ("between layers", "variational", "weight (W_hh)"):
    assert np.mean(gaps[name]) < 0.9 * np.mean(gaps["none"])        # a narrower gap ...
    assert mean_of(name, "val loss") < mean_of("none", "val loss")  # ... a lower held-out loss
    assert abs(mean_of(name, "val accuracy") - mean_of("none", "val accuracy")) < 0.05
assert max(gaps["variational"]) < 0.6 * min(gaps["none"])          # the largest effect

# %% [markdown]
# ## Summary
#
# - A stacked layer $\ell$ reads the outputs of layer $\ell - 1$ at the same step; the
#   stack's `output` is the last layer's. `h_n` is $(L \cdot D, B, H)$, layer by layer,
#   forward before backward, and ignores `batch_first`: take the last layer with
#   `h_n.view(L, D, B, H)[-1]`, never `h_n[-1]` when $D = 2$.
# - Every layer after the first adds $D \cdot 4(DH^2 + H^2 + 2H)$ parameters to an LSTM.
#   On the six-language word task at a small budget, two layers did no better than one and
#   three did worse, while the cost per step grew with every layer.
# - The backward half of a bidirectional output at step $t$ has read $x_T, \dots, x_t$:
#   `output[:, -1]` holds its *first* state; the read-out is
#   `[output[:, -1, :H]; output[:, 0, H:]]`, which is `h_n`. Where the label depends on the
#   future, bidirectional wins outright; where the label *is* the future, a bidirectional
#   model reads it, and its validation score is a leak that cannot be deployed.
# - A packed batch gives each sequence exactly what it gets alone (checked to $10^{-12}$ in
#   double precision, for torch.nn and the book's layers, stacked and bidirectional);
#   `enforce_sorted=False` keeps the original order; `batch_first` must be passed to the
#   packing function as well as to the layer. Without packing, the final state of a padded
#   word drifts with every padding step, and accuracy falls.
# - `nn.LSTM`'s `dropout` acts between layers only (and does nothing with one layer).
#   Variational dropout shares one mask per sequence on $x_t$ and on $h_{t-1}$ where it
#   meets $W_{hh}$; weight dropout drops entries of $W_{hh}$ once per batch. All three
#   narrowed the train/validation gap of a model that over-fits, variational dropout the
#   most; none of them raised its held-out accuracy at that budget.

# %% [markdown]
# ## Exercises
#
# **1. Counting a bidirectional GRU stack.** Derive the number of parameters of
# `nn.GRU(10, 20, num_layers=3, bidirectional=True)` and check it.
#
# <details><summary>Solution</summary>
#
# A GRU layer-direction has $3(H I_\ell + H^2 + 2H)$ numbers. Layer 1: $I_1 = 10$, so
# $3(200 + 400 + 40) = 1{,}920$ per direction. Layers 2 and 3 read $2H = 40$ numbers:
# $3(800 + 400 + 40) = 3{,}720$ per direction. Total
# $2 \cdot 1{,}920 + 4 \cdot 3{,}720 = 18{,}720$.
#
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
gru_stack = nn.GRU(10, 20, num_layers=3, bidirectional=True)
by_formula = 2 * 3 * (20 * 10 + 20 * 20 + 2 * 20) + 4 * 3 * (20 * 40 + 20 * 20 + 2 * 20)
print(f"counted {sum(p.numel() for p in gru_stack.parameters()):,}, by the formula {by_formula:,}")
assert sum(p.numel() for p in gru_stack.parameters()) == by_formula == 18_720

# %% [markdown]
# **2. A bidirectional stack, batch first.** For `nn.LSTM(4, 6, num_layers=3,
# bidirectional=True, batch_first=True)` and an input of shape `(5, 9, 4)`, write the
# read-out of the last layer's two final states from `h_n`, and check it against the
# output sequence. What does `h_n[-1]` hold, and `h_n[0]`?
#
# <details><summary>Solution</summary>
#
# `h_n` is `(6, 5, 6)` whatever `batch_first` says. `h_n.view(3, 2, 5, 6)[-1]` is the last
# layer's (forward, backward) pair, equal to `output[:, -1, :6]` and `output[:, 0, 6:]`.
# `h_n[-1]` is the last layer's backward state only; `h_n[0]` is the *first* layer's
# forward state, which the output sequence (the last layer's) does not contain at all.
#
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
seed_everything(7)
ex_lstm = nn.LSTM(4, 6, num_layers=3, bidirectional=True, batch_first=True, dtype=F64)
ex_x = torch.randn(5, 9, 4, dtype=F64)
ex_out, (ex_h, _) = ex_lstm(ex_x)
last = ex_h.view(3, 2, 5, 6)[-1]
readout_gap = max(gap(last[0], ex_out[:, -1, :6]), gap(last[1], ex_out[:, 0, 6:]))
print(f"h_n {tuple(ex_h.shape)}; last layer from h_n vs from the output: {below(readout_gap)}")
assert ex_h.shape == (6, 5, 6) and readout_gap < 1e-12
assert gap(ex_h[-1], ex_out[:, 0, 6:]) < 1e-12                 # backward only
assert min(gap(ex_h[0], ex_out[:, t, :6]) for t in range(9)) > 1e-3   # not in the output

# %% [markdown]
# **3. Why the GRU's carry is not masked.** `rnnbook.dropout`'s recurrent mask multiplies
# $h_{t-1}$ only where it enters $W_{hh} h_{t-1}$; the GRU's carry $z \odot h_{t-1}$ keeps
# the unmasked state (Keras does the same). Suppose we masked the carry too,
# $h_t = (1-z) \odot n + z \odot (m \odot h_{t-1})$. Take a GRU whose update gates are
# saturated at $z = 1$ (a unit that should remember perfectly) and follow $h_t$ for 10
# steps with $p = 0.5$, both ways.
#
# <details><summary>Solution</summary>
#
# With $z = 1$, the book's form gives $h_t = h_{t-1}$: the memory is kept exactly, whatever
# the mask, because the mask only changes the gates' and the candidate's inputs, which
# $z = 1$ ignores. Masking the carry gives $h_t = m \odot h_{t-1}$, so
# $h_{10} = m^{10} \odot h_0$ with $m \in \{0, 2\}$: every unit is either erased or
# multiplied by $2^{10} = 1024$. The memory that gating exists to protect is destroyed by
# the regulariser.
#
# </details>

# %% tags=["hide-input", "nbval-check-output"] jupyter={"source_hidden": true}
seed_everything(8)
Hx = 16
w_hh, b_hh = torch.randn(3 * Hx, Hx, dtype=F64), torch.zeros(3 * Hx, dtype=F64)
w_hh[Hx:2 * Hx] = 0.0                                        # z reads only its input ...
x_proj = torch.zeros(4, 3 * Hx, dtype=F64)
x_proj[:, Hx:2 * Hx] = 40.0                                  # ... so z = sigmoid(40) = 1
h0 = torch.rand(4, Hx, dtype=F64) + 0.5
mask = F.dropout(torch.ones(4, Hx, dtype=F64), 0.5)         # one mask for the sequence
h_book, h_masked_carry = h0, h0
for _ in range(10):
    h_book = gates.gru_step(x_proj, (h_book,), w_hh, b_hh, h_mask=mask)["h"]
    step = gates.gru_step(x_proj, (h_masked_carry,), w_hh, b_hh, h_mask=mask)
    h_masked_carry = (1 - step["z"]) * step["n"] + step["z"] * (mask * h_masked_carry)
ratio = h_masked_carry / h0
print(f"book's recurrent dropout, z = 1: h_10 vs h_0 {below(gap(h_book, h0), 1e-9)}")
print(f"carry masked too: every unit of h_10 / h_0 is 0 or 1024: "
      f"{bool(((ratio.abs() < 1e-6) | ((ratio - 1024).abs() < 1e-6)).all())}")
assert gap(h_book, h0) < 1e-9
assert ((ratio.abs() < 1e-6) | ((ratio - 1024).abs() < 1e-6)).all()

# %% [markdown]
# **4. How much is the padding worth?** Left padding (zeros *before* each word) is the
# other common fix when packing is not available. Evaluate the one-layer classifier of
# seed 0 on left-padded held-out words, reading `h_n` after the last real letter. Does it
# recover the packed accuracy?
#
# <details><summary>Solution</summary>
#
# Most of the way, not all of it. With left padding the final state is read after the
# word's last letter, as it should be, but the word no longer starts from the initial
# state $h_0 = 0$ the classifier was trained with: it starts from wherever a few steps of
# zero input have taken the state. Over seed shifts 0 to 4, left padding recovered well
# over half of what right padding lost, and never beat packing. The asserts hold those
# two statements (the exact numbers depend on the seed).
#
# </details>

# %% tags=["hide-input"] jupyter={"source_hidden": true}
with torch.no_grad():
    model = depth_models[1, 0].eval()
    embedded = val_packed._replace(data=model.embed(val_packed.data))
    right_padded, lens_v = pad_packed_sequence(embedded, batch_first=True)
    left_padded = torch.stack([torch.roll(row, int(right_padded.size(1) - n), dims=0)
                               for row, n in zip(right_padded, lens_v, strict=True)])
    _, (h_left, _) = model.rnn(left_padded)
    acc_left = (model.head(h_left[-1]).argmax(1) == val_y).float().mean().item()
print(f"seed 0: packed {acc_packed[0]:.3f}, right-padded {acc_padded[0]:.3f}, "
      f"left-padded {acc_left:.3f}")
assert acc_left - acc_padded[0] > 0.5 * (acc_packed[0] - acc_padded[0])   # most of it
assert acc_left <= acc_packed[0] + 0.02                                      # not all

# %% [markdown]
# ## References
#
# - Gal, Y. & Ghahramani, Z. (2016). A theoretically grounded application of dropout in
#   recurrent neural networks. *Advances in Neural Information Processing Systems 29*
#   (NeurIPS 2016).
# - Graves, A., Mohamed, A. & Hinton, G. (2013). Speech recognition with deep recurrent
#   neural networks. *IEEE International Conference on Acoustics, Speech and Signal
#   Processing (ICASSP)*, 6645–6649.
# - Graves, A. & Schmidhuber, J. (2005). Framewise phoneme classification with
#   bidirectional LSTM and other neural network architectures. *Neural Networks* 18(5–6),
#   602–610.
# - Merity, S., Keskar, N. S. & Socher, R. (2018). Regularizing and optimizing LSTM language
#   models. *International Conference on Learning Representations (ICLR)*.
# - Pascanu, R., Gulcehre, C., Cho, K. & Bengio, Y. (2014). How to construct deep recurrent
#   neural networks. *International Conference on Learning Representations (ICLR)*.
# - Schuster, M. & Paliwal, K. K. (1997). Bidirectional recurrent neural networks. *IEEE
#   Transactions on Signal Processing* 45(11), 2673–2681.
# - Speer, R. (2022). rspeer/wordfreq: v3.0 (software and data). Zenodo.
#   doi:10.5281/zenodo.7199437.
# - Srivastava, N., Hinton, G., Krizhevsky, A., Sutskever, I. & Salakhutdinov, R. (2014).
#   Dropout: a simple way to prevent neural networks from overfitting. *Journal of Machine
#   Learning Research* 15, 1929–1958.
# - Wan, L., Zeiler, M., Zhang, S., LeCun, Y. & Fergus, R. (2013). Regularization of neural
#   networks using DropConnect. *Proceedings of the 30th International Conference on
#   Machine Learning (ICML)*, PMLR 28(3), 1058–1066.
# - Zaremba, W., Sutskever, I. & Vinyals, O. (2014). Recurrent neural network
#   regularization. arXiv:1409.2329.
