"""Music as data for recurrent networks: Bach chorales as piano rolls, folk tunes as ABC text.

    chorales = load_chorales()               # shipped piano rolls, fixed train/valid/test split
    roll = chorales.train[0]                 # (T, 88) bool: quarter-note steps x piano keys
    x, y = frame_batch(chorales.train[:32])  # previous frames as input, padded targets
    loss = frame_nll(model(x), y)            # negative log-likelihood per time step, in nats
    tunes = load_abc("train")                # Essen folk songs as ABC text, from music21
    check_tune(tunes[0])                     # music21 reads it; how many bars are full
    write_midi(roll, "chorale.mid")          # a file any MIDI player plays

    python -m rnnbook.music build            # remake the shipped data from music21's corpus

Parsing a few hundred MusicXML files takes half a minute of CPU and more, so the piano
rolls ship in `rnnbook/datasets/bach_chorales.npz`, made by `build`, which also
writes `music21_corpus.json`: its command, the versions used and hashes of what it read
and wrote. The folk songs are read from the installed corpus instead (plain text, read in
a fraction of a second), since their licence allows distribution with music21 only.
music21 (BSD-3) is imported only when a function needs it: `pip install "rnnbook[data]"`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import platform
import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from rnnbook.checks import check_choice, check_float, check_int, to_numpy
from rnnbook.train import evaluating

__all__ = [
    "Chorales", "TuneCheck", "bernoulli_nll", "build", "check_roll", "check_rolls", "check_tune",
    "chorale_files", "chorale_rolls", "clean_abc", "corpus_root", "essen_files",
    "essen_tunes", "frame_batch", "frame_nll", "load_abc", "load_chorales", "load_manifest",
    "marginal_nll", "ngram_tunes", "parse_abc", "piano_roll", "plot_roll", "plot_tune",
    "read_midi", "repeat_nll", "repeat_weight", "roll_to_score", "rolls_sha256",
    "sample_roll", "sample_tunes", "split_of", "write_midi",
]

LOWEST_PITCH = 21
"""MIDI number of the lowest piano key, A0. The roll's 88 columns are keys A0 to C8."""
NUM_PITCHES = 88
STEP = 1.0
"""Length of a time step in quarter notes: the quarter-note grid of the JSB chorale data."""
PAD = -1.0
"""Target value of the padding frames that `frame_batch` adds after a shorter chorale."""
SPLITS = ("train", "valid", "test")
DATASETS = resources.files("rnnbook.datasets")
CHORALES_FILE, MANIFEST_FILE = "bach_chorales.npz", "music21_corpus.json"
COMMAND = "python -m rnnbook.music build"


def _music21():
    try:
        import music21
    except ImportError:
        raise ImportError('this needs music21: pip install "rnnbook[data]"') from None
    return music21


def corpus_root() -> Path:
    """The folder of music21's installed corpus."""
    return Path(_music21().__file__).parent / "corpus"


# ---------------------------------------------------------------------------------------
# Piano rolls
# ---------------------------------------------------------------------------------------

def check_roll(roll, name: str = "roll") -> np.ndarray:
    """`roll` as a (T, 88) bool array, if it is one: 0/1 or bool values, at least one step."""
    arr = roll.detach().cpu().numpy() if isinstance(roll, Tensor) else np.asarray(roll)
    if arr.ndim != 2 or arr.shape[1] != NUM_PITCHES or arr.shape[0] < 1:
        raise ValueError(f"{name} must have shape (steps, {NUM_PITCHES}), got {arr.shape}")
    if arr.dtype != bool and not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must hold 0/1 or bool values")
    return arr.astype(bool)


def check_rolls(rolls, name: str = "rolls") -> list[np.ndarray]:
    """A non-empty list of piano rolls, each checked by `check_roll`."""
    if isinstance(rolls, np.ndarray) and rolls.ndim == 2:
        raise TypeError(f"{name} must be a list of piano rolls, got one (steps, 88) array: "
                        f"wrap it in a list")
    if not isinstance(rolls, (list, tuple)) or not rolls:
        raise ValueError(f"{name} must be a non-empty list of (steps, {NUM_PITCHES}) piano rolls")
    return [check_roll(r, f"{name}[{i}]") for i, r in enumerate(rolls)]


def piano_roll(score, step: float = STEP) -> np.ndarray:
    """The piano roll of a music21 stream: roll[t, k] is True when key k (MIDI 21 + k)
    sounds at time t * step, in quarter notes.

    A note sounding from offset a to offset b is on in every step t with a <= t * step < b,
    so the roll keeps the pitches heard on the grid and drops notes between grid points
    (with step=1, an eighth-note passing tone off the beat). Like the JSB chorale data, it
    does not tell a held note from a repeated one.
    """
    music21 = _music21()
    if not isinstance(score, music21.stream.Stream):
        raise TypeError(f"score must be a music21 stream, got {type(score).__name__}")
    notes = [(float(n.offset), float(n.offset + n.quarterLength), p.midi)
             for n in score.flatten().notes if n.quarterLength > 0 for p in n.pitches]
    return _roll_of_notes(notes, step, "score")


def _roll_of_notes(notes: list[tuple[float, float, int]], step: float, what: str) -> np.ndarray:
    """The piano roll of (start, end, MIDI pitch) triples, times in quarter notes."""
    step = check_float("step", step, above=0)
    if not notes:
        raise ValueError(f"{what} has no notes")
    outside = sorted({m for _, _, m in notes if not 0 <= m - LOWEST_PITCH < NUM_PITCHES})
    if outside:
        raise ValueError(f"{what} has MIDI pitches {outside} outside the piano's "
                         f"{LOWEST_PITCH}..{LOWEST_PITCH + NUM_PITCHES - 1}")
    first_step = lambda time: math.ceil(time / step - 1e-9)  # noqa: E731  first t, t*step >= time
    roll = np.zeros((first_step(max(end for _, end, _ in notes)), NUM_PITCHES), dtype=bool)
    for start, end, midi in notes:
        roll[first_step(start):first_step(end), midi - LOWEST_PITCH] = True
    return roll


def roll_to_score(roll, step: float = STEP):
    """A music21 score of a piano roll: each run of steps where a key stays on becomes one
    note (a roll has no onsets, so a repeated note comes back as a held one)."""
    music21 = _music21()
    arr, step = check_roll(roll), check_float("step", step, above=0)
    part = music21.stream.Part()
    padded = np.zeros((len(arr) + 2, NUM_PITCHES), dtype=np.int8)
    padded[1:-1] = arr
    for key in np.flatnonzero(arr.any(axis=0)):
        edges = np.flatnonzero(np.diff(padded[:, key]))       # alternating starts and ends
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            note = music21.note.Note(midi=int(key) + LOWEST_PITCH)
            note.quarterLength = (end - start) * step
            part.insert(start * step, note)
    return music21.stream.Score([part])


def write_midi(roll, path, step: float = STEP) -> Path:
    """Write a piano roll as a MIDI file through music21 and return its path. The steps
    after the last note are not stored: MIDI has no silence after the end."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    path = Path(path)
    if path.suffix.lower() not in (".mid", ".midi"):
        raise ValueError(f"path must end in .mid or .midi, got {str(path)!r}")
    roll_to_score(roll, step).write("midi", fp=path)
    return path


def read_midi(path, step: float = STEP) -> np.ndarray:
    """The piano roll of a MIDI file: write_midi's inverse.

    It reads the file's note-on and note-off events with music21's MIDI parser. (Its
    converter goes further and rebuilds bars and voices, which can shift notes that
    overlap in one track, as a piano roll's notes do; the raw events cannot.)
    """
    midi = _music21().midi
    if not Path(path).is_file():
        raise FileNotFoundError(f"no MIDI file at {str(path)!r}")
    file = midi.MidiFile()
    file.open(str(path))
    file.read()
    file.close()
    quarter, notes = file.ticksPerQuarterNote, []
    for track in file.tracks:
        time, sounding = 0, {}
        for event in track.events:
            if isinstance(event, midi.DeltaTime):
                time += event.time
                continue
            if event.type not in (midi.ChannelVoiceMessages.NOTE_ON,
                                  midi.ChannelVoiceMessages.NOTE_OFF):
                continue
            key = (event.channel, event.pitch)
            if key in sounding:                     # a note-off, or a new attack ends it
                notes.append((sounding.pop(key) / quarter, time / quarter, event.pitch))
            if event.type == midi.ChannelVoiceMessages.NOTE_ON and event.velocity > 0:
                sounding[key] = time
    return _roll_of_notes(notes, step, f"MIDI file {str(path)!r}")


# ---------------------------------------------------------------------------------------
# The chorale data set
# ---------------------------------------------------------------------------------------

def split_of(key: str) -> str:
    """The split a chorale or tune belongs to, fixed by a hash of its name or text: 60%
    train, 20% valid, 20% test, the proportions of the JSB chorales' 229/76/77 split.
    Adding items to a corpus never moves the old ones."""
    if not isinstance(key, str):
        raise TypeError(f"key must be a str, got {type(key).__name__}")
    bucket = int(hashlib.sha256(key.encode()).hexdigest(), 16) % 10
    return "train" if bucket < 6 else "valid" if bucket < 8 else "test"


@dataclass
class Chorales:
    """Piano rolls, (T, 88) bool arrays, by split; `names` holds the corpus file of each."""

    train: list[np.ndarray]
    valid: list[np.ndarray]
    test: list[np.ndarray]
    names: dict[str, list[str]]

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s}={len(getattr(self, s))}" for s in SPLITS)
        return f"Chorales({sizes}; (steps, {NUM_PITCHES}) bool piano rolls)"


def load_chorales() -> Chorales:
    """The Bach chorales shipped with the package (made by `build`), split by `split_of`."""
    with DATASETS.joinpath(CHORALES_FILE).open("rb") as f, np.load(f) as data:
        names, lengths = data["names"].tolist(), data["lengths"]
        frames = np.unpackbits(data["frames"], axis=1, count=NUM_PITCHES).astype(bool)
    rolls = np.split(frames, np.cumsum(lengths)[:-1])
    parts = {s: [(n, r) for n, r in zip(names, rolls, strict=True) if split_of(n) == s]
             for s in SPLITS}
    return Chorales(*([r for _, r in parts[s]] for s in SPLITS),
                    names={s: [n for n, _ in parts[s]] for s in SPLITS})


def frame_batch(rolls) -> tuple[Tensor, Tensor]:
    """Inputs and targets for a frame model, from a list of piano rolls.

    The model reads frame t-1 and predicts frame t; the first frame is predicted from an
    all-zero "start" frame. Rolls of different lengths are padded at the end: inputs with
    zeros, targets with PAD, which `frame_nll` skips. Returns float32 (B, T_max, 88) each.
    """
    rolls = check_rolls(rolls)
    longest = max(len(r) for r in rolls)
    x = torch.zeros(len(rolls), longest, NUM_PITCHES)
    y = torch.full((len(rolls), longest, NUM_PITCHES), PAD)
    for i, r in enumerate(rolls):
        frames = torch.from_numpy(r).float()
        x[i, 1:len(r)] = frames[:-1]
        y[i, :len(r)] = frames
    return x, y


def frame_nll(logits: Tensor, targets: Tensor) -> Tensor:
    """Negative log-likelihood per time step, in nats, of independent Bernoulli keys:

        -1/N sum_t sum_k [ y_tk log p_tk + (1 - y_tk) log(1 - p_tk) ],  p = sigmoid(logits)

    summed over the 88 keys and averaged over the N real (not padded) steps, the measure of
    Boulanger-Lewandowski et al. (2012) and Chung et al. (2014). Both are (B, T, 88).
    """
    if not isinstance(logits, Tensor) or not isinstance(targets, Tensor):
        raise TypeError(f"logits and targets must be tensors, got {type(logits).__name__} "
                        f"and {type(targets).__name__}")
    if logits.shape != targets.shape or logits.dim() != 3 or logits.size(-1) != NUM_PITCHES:
        raise ValueError(f"logits and targets must both be (batch, steps, {NUM_PITCHES}), "
                         f"got {tuple(logits.shape)} and {tuple(targets.shape)}")
    real = targets[..., 0] != PAD
    if not real.any():
        raise ValueError("targets hold no real steps, only padding")
    total = torch.nn.functional.binary_cross_entropy_with_logits(
        logits[real], targets[real], reduction="sum")
    return total / real.sum()


def bernoulli_nll(probs, rolls) -> float:
    """Mean over all steps of the rolls of -sum_k log P(frame), under probabilities that are
    either one (88,) vector for every step or a list with a (steps, 88) array per roll.
    They are clipped to [1e-6, 1 - 1e-6], so that a key the model never expected costs
    13.8 nats, not infinity."""
    rolls = check_rolls(rolls)
    if isinstance(probs, (list, tuple)):
        if len(probs) != len(rolls):
            raise ValueError(f"probs must hold one array per roll: {len(rolls)}, "
                             f"got {len(probs)}")
        probs = [to_numpy(p, f"probs[{i}]", ndim=(2,)) for i, p in enumerate(probs)]
    else:
        probs = [to_numpy(probs, "probs", ndim=(1,))] * len(rolls)
    total, steps = 0.0, 0
    for i, (p, roll) in enumerate(zip(probs, rolls, strict=True)):
        if p.shape[-1] != NUM_PITCHES or (p.ndim == 2 and len(p) != len(roll)):
            raise ValueError(f"probs for roll {i} must be ({NUM_PITCHES},) or "
                             f"({len(roll)}, {NUM_PITCHES}), got {p.shape}")
        if p.min() < 0 or p.max() > 1:
            raise ValueError(f"probs must lie in [0, 1], got values in [{p.min()}, {p.max()}]")
        p = np.clip(p, 1e-6, 1 - 1e-6)
        total -= np.where(roll, np.log(p), np.log1p(-p)).sum()
        steps += len(roll)
    return float(total / steps)


def marginal_nll(train, rolls) -> float:
    """The marginal baseline: every key on with its frequency in the training rolls,
    whatever came before. Nats per step on `rolls`."""
    return bernoulli_nll(np.concatenate(check_rolls(train, "train")).mean(axis=0), rolls)


def repeat_weight(train) -> float:
    """The weight lam of the "repeat" baseline that maximises the likelihood of the training
    rolls (a bounded one-dimensional search, scipy's minimize_scalar)."""
    from scipy.optimize import minimize_scalar

    train = check_rolls(train, "train")
    found = minimize_scalar(lambda lam: repeat_nll(train, train, lam), bounds=(1e-4, 1 - 1e-4),
                            method="bounded", options={"xatol": 1e-5})
    return float(found.x)


def repeat_nll(train, rolls, weight: float | None = None) -> float:
    """The "repeat the previous frame" baseline, made a probability model: key k is on with
    probability (1 - lam) * [k was on at the previous step] + lam * f_k, with f_k its
    frequency in the training rolls, so a change of notes is unlikely but never impossible.
    The first step gets f alone. lam = `weight`, or the best one for the training rolls.
    Nats per step on `rolls`."""
    train, rolls = check_rolls(train, "train"), check_rolls(rolls)
    lam = repeat_weight(train) if weight is None else check_float("weight", weight, 0, 1)
    freq = np.concatenate(train).mean(axis=0)
    probs = [np.vstack([freq, (1 - lam) * r[:-1] + lam * freq]) for r in rolls]
    return bernoulli_nll(probs, rolls)


@torch.no_grad()
def sample_roll(model, steps: int, n: int = 1, generator: torch.Generator | None = None
                ) -> np.ndarray:
    """Sample `n` piano rolls of `steps` steps from a frame model (B, T, 88) -> (B, T, 88)
    logits: each key of step t is drawn on with probability sigmoid(logit), independently,
    and fed back as the input of step t + 1. Returns (n, steps, 88) bool."""
    check_int("steps", steps)
    check_int("n", n)
    x = torch.zeros(n, 1, NUM_PITCHES)                   # the all-zero start frame
    with evaluating(model):
        for _ in range(steps):                          # the whole prefix again each step:
            probs = torch.sigmoid(model(x)[:, -1])      # simple, and cheap at these sizes
            x = torch.cat([x, torch.bernoulli(probs, generator=generator)[:, None]], dim=1)
    return x[:, 1:].numpy().astype(bool)


# ---------------------------------------------------------------------------------------
# Folk songs as ABC text
# ---------------------------------------------------------------------------------------

TUNE_SEPARATOR = "\n\n"
"""Tunes are joined by a blank line into one text for a character model."""
KEEP_FIELDS = ("M:", "L:", "K:")
"""The header fields a tune keeps: meter, unit note length, key. Titles, sources and notes
(X:, T:, N:, O:, R:, S:) are dropped: they are German prose, not music."""


def clean_abc(text: str) -> list[str]:
    """The tunes of an ABC file, each reduced to its M:, L: and K: fields and its notes."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    tunes = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.strip().splitlines()]
        if not lines or not lines[0].startswith("X:"):
            continue
        kept = [line.replace(" ", "") if line.startswith(KEEP_FIELDS) else line
                for line in lines
                if line.startswith(KEEP_FIELDS) or not re.match(r"[A-Za-z]:", line)]
        tunes.append("\n".join(kept))
    return tunes


def essen_files() -> list[Path]:
    """The ABC files of the Essen folk-song collection in music21's corpus."""
    files = sorted((corpus_root() / "essenFolksong").glob("*.abc"))
    if not files:
        raise FileNotFoundError("music21's corpus has no essenFolksong/*.abc files; "
                                "is it a no-corpus build of music21?")
    return files


def essen_tunes() -> list[str]:
    """Every distinct tune of the Essen collection, cleaned by `clean_abc`, in file order."""
    seen: dict[str, None] = {}
    for path in essen_files():
        for tune in clean_abc(path.read_text(encoding="latin-1")):
            seen.setdefault(tune)
    return list(seen)


def load_abc(split: str = "train") -> list[str]:
    """The Essen tunes of one split (60/20/20 by `split_of` on each tune's text)."""
    check_choice("split", split, SPLITS)
    return [tune for tune in essen_tunes() if split_of(tune) == split]


def parse_abc(tune: str):
    """A tune as a music21 score (its warnings about odd notes silenced). The tune needs no
    X: line; music21 raises on text it cannot read at all."""
    if not isinstance(tune, str):
        raise TypeError(f"tune must be a str, got {type(tune).__name__}")
    with contextlib.redirect_stderr(io.StringIO()):
        return _music21().converter.parse("X:1\n" + tune, format="abc", forceSource=True)


@dataclass(frozen=True)
class TuneCheck:
    """What music21 made of a tune: did it read it, and how many of its bars are full."""

    parses: bool        # music21 read it without error and found at least one note
    bars: int           # bars between the first (a pickup) and the last, if it has a meter
    full_bars: int      # of those, the bars whose notes and rests fill the meter exactly

    @property
    def wellformed(self) -> bool:
        """It parses, and it has inner bars, every one of them full."""
        return self.parses and self.bars > 0 and self.full_bars == self.bars


def check_tune(tune: str) -> TuneCheck:
    """Read a tune with music21 and count its full bars.

    music21 reads almost any text without complaint (an unknown letter becomes a C), so
    "it parses" is a low bar; counting the beats of every bar is a higher one, which a
    model passes only if it learned how note lengths add up to the meter.
    """
    if not isinstance(tune, str):
        raise TypeError(f"tune must be a str, got {type(tune).__name__}")
    try:
        score = parse_abc(tune)
        if not score.flatten().notes:
            return TuneCheck(False, 0, 0)
        meter = score.recurse().getElementsByClass("TimeSignature").first()
        inner = list(score.recurse().getElementsByClass("Measure"))[1:-1]
        if meter is None:
            return TuneCheck(True, 0, 0)
        full = meter.barDuration.quarterLength
        return TuneCheck(True, len(inner),
                         sum(abs(bar.duration.quarterLength - full) < 1e-9 for bar in inner))
    except Exception:           # music21 raises many kinds of error on text it cannot read
        return TuneCheck(False, 0, 0)


@torch.no_grad()
def sample_tunes(lm, vocab, n: int, temperature: float = 1.0,
                 generator: torch.Generator | None = None, max_chars: int = 600) -> list[str]:
    """Sample `n` tunes at once from a character model (a CharLM) trained on tunes joined
    by blank lines: start after a blank line, stop at the next one (or after max_chars)."""
    check_int("n", n)
    check_int("max_chars", max_chars)
    temperature = check_float("temperature", temperature, above=0)
    tunes, done = [""] * n, [False] * n
    with evaluating(lm):
        logits, state = lm(vocab.encode(TUNE_SEPARATOR).repeat(n, 1))
        for _ in range(max_chars):
            probs = torch.softmax(logits[:, -1] / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator)
            for i, char in enumerate(vocab.decode(nxt[:, 0])):
                if not done[i]:
                    tunes[i] += char
                    done[i] = tunes[i].endswith(TUNE_SEPARATOR)
            if all(done):
                break
            logits, state = lm(nxt, state)
    return [tune.strip("\n") for tune in tunes]


def ngram_tunes(text: str, order: int, n: int, rng: np.random.Generator,
                max_chars: int = 600) -> list[str]:
    """Sample `n` tunes from the character n-gram model of `text` (tunes joined by blank
    lines): each next character is drawn with the frequency it followed the last
    order - 1 characters in `text`, starting from the context before a random tune."""
    check_int("order", order, minimum=2)
    check_int("n", n)
    check_int("max_chars", max_chars)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (rnnbook.numpy_rng), "
                        f"got {type(rng).__name__}")
    if not isinstance(text, str) or TUNE_SEPARATOR not in text:
        raise ValueError("text must be tunes joined by blank lines")
    codes, ids = np.unique(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32),
                           return_inverse=True)
    k, base = order - 1, len(codes)
    if base ** k >= 2 ** 62:
        raise ValueError(f"order={order} is too high for {base} distinct characters")
    contexts = np.zeros(len(ids) - k, dtype=np.int64)
    for i in range(k):                                # the k characters before, as one key
        contexts = contexts * base + ids[i:len(ids) - k + i]
    by_context = np.argsort(contexts, kind="stable")
    contexts, following = contexts[by_context], ids[k:][by_context]
    starts = [m.end() for m in re.finditer(TUNE_SEPARATOR, text) if k <= m.end() < len(text)]
    tunes = []
    for _ in range(n):
        start = starts[rng.integers(len(starts))]
        context, tune = list(ids[start - k:start]), ""
        while len(tune) < max_chars and not tune.endswith(TUNE_SEPARATOR):
            key = 0
            for i in context[-k:]:
                key = key * base + int(i)
            lo, hi = np.searchsorted(contexts, [key, key + 1])
            if lo == hi:                                # only seen at the very end of text
                break
            nxt = following[rng.integers(lo, hi)]       # in proportion to the counts
            context.append(nxt)
            tune += chr(codes[nxt])
        tunes.append(tune.strip("\n"))
    return tunes


# ---------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------

def plot_roll(roll, ax=None, step: float = STEP, title: str | None = None):
    """Draw a piano roll: time across, keys up, octaves marked at each C."""
    import matplotlib.pyplot as plt

    arr = check_roll(roll)
    ax = ax or plt.subplots(figsize=(10, 3))[1]
    used = np.flatnonzero(arr.any(axis=0))
    low, high = (used.min(), used.max()) if len(used) else (0, NUM_PITCHES - 1)
    ax.imshow(arr[:, low:high + 1].T, origin="lower", aspect="auto", cmap="Greys",
              interpolation="nearest", extent=(0, len(arr) * step, low - 0.5, high + 0.5))
    cs = [k for k in range(low, high + 1) if (k + LOWEST_PITCH) % 12 == 0]
    ax.set_yticks(cs, [f"C{(k + LOWEST_PITCH) // 12 - 1}" for k in cs])
    ax.set(xlabel="time (quarter notes)", ylabel="key", title=title)
    return ax


def plot_tune(score, ax=None, title: str | None = None, width: float = 24):
    """Draw the notes of a one-voice music21 score on treble staves, `width` quarter notes
    to a line, in proportional time: a note sits at its onset. Filled heads for a quarter
    or shorter, open heads for longer notes, one flag per halving below a quarter, a dot
    for dotted lengths, accidentals written out (no key signature), rests as short bars
    on the middle line, bar lines where music21 put them."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Ellipse

    music21 = _music21()
    if not isinstance(score, music21.stream.Stream):
        raise TypeError(f"score must be a music21 stream, got {type(score).__name__}")
    width = check_float("width", width, above=0)
    flat = score.flatten()
    end = max(float(flat.highestTime), 1.0)
    lines, unit, gap = math.ceil(end / width), 5.0, 24.0   # unit: x per quarter note
    top, bottom = 17, -(lines - 1) * gap - 9
    if ax is None:                              # equal aspect: size the figure to fit
        ax = plt.subplots(figsize=(12, 12 * (top - bottom) / (width * unit + 2) + 0.4))[1]

    def place(time):                                       # (x, y offset of the staff)
        line = min(int(time // width), lines - 1)
        return (time - line * width) * unit, -line * gap

    for line in range(lines):
        right = min(width, end - line * width) * unit
        for y in range(0, 10, 2):                          # E4 G4 B4 D5 F5, half spaces
            ax.plot([0, right], [y - line * gap] * 2, color="k", lw=0.7)
    for bar in score.recurse().getElementsByClass("Measure"):
        x, y0 = place(float(bar.getOffsetInHierarchy(score)))
        ax.plot([x, x], [y0, y0 + 8], color="k", lw=0.7)
    for element in flat.notesAndRests:
        x, y0 = place(float(element.offset))
        x += 1.2
        length = float(element.quarterLength)
        if element.isRest:
            ax.plot([x - 0.6, x + 0.6], [y0 + 4, y0 + 4], color="k", lw=3)
            continue
        for pitch in element.pitches:
            step = pitch.diatonicNoteNum - 30                # 0 on the bottom line, E4
            y = y0 + step
            for ledger in [*range(-2, step - 1, -2), *range(10, step + 1, 2)]:
                ax.plot([x - 1.3, x + 1.3], [y0 + ledger] * 2, color="k", lw=0.7)
            ax.add_patch(Ellipse((x, y), 2.1, 1.6, angle=20, lw=1.0, ec="k",
                                 fc="k" if length <= 1 else "white", zorder=3))
            if length >= 4:
                continue                                     # a whole note has no stem
            up = step < 4                                    # stems up below the middle
            stem_x, tip = x + (0.95 if up else -0.95), y + (7 if up else -7)
            ax.plot([stem_x, stem_x], [y, tip], color="k", lw=0.8)
            flags = max(0, round(-math.log2(length))) if length < 1 else 0
            for f in range(min(flags, 3)):
                tip_f = tip - (1.5 * f if up else -1.5 * f)
                ax.plot([stem_x, stem_x + 1.2], [tip_f, tip_f - (2 if up else -2)],
                        color="k", lw=1.0)
            if length in (0.375, 0.75, 1.5, 3.0):            # dotted lengths
                ax.plot(x + 1.8, y + (0.5 if step % 2 == 0 else 0), "k.", ms=3)
            if pitch.accidental is not None and pitch.accidental.name != "natural":
                symbol = {"sharp": "\u266f", "flat": "\u266d"}.get(pitch.accidental.name, "?")
                ax.text(x - 1.4, y, symbol, ha="right", va="center", fontsize=9)
    ax.set_aspect("equal")
    ax.set(xlim=(-1, width * unit + 1), ylim=(bottom, top), title=title)
    ax.axis("off")
    return ax


# ---------------------------------------------------------------------------------------
# The preprocessing script
# ---------------------------------------------------------------------------------------

def chorale_files() -> list[str]:
    """Corpus paths ("bach/bwv66.6.mxl") of every Bach score music21 ships as a file."""
    root = corpus_root()
    return sorted(str(p.relative_to(root)) for p in (root / "bach").glob("*")
                  if p.suffix in (".mxl", ".xml", ".musicxml", ".krn"))


def chorale_rolls(names: list[str]) -> dict[str, np.ndarray | str]:
    """Parse corpus files and return, per name, the piano roll of a four-voice score, or
    the reason it was left out (other scores have instrumental parts or are not chorales)."""
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise TypeError("names must be a list of corpus paths such as 'bach/bwv66.6.mxl'")
    music21, root, out = _music21(), corpus_root(), {}
    for name in names:
        if not (root / name).is_file():
            raise FileNotFoundError(f"music21's corpus has no file {name!r}")
        score = music21.converter.parse(root / name, forceSource=True)
        voices = len(score.parts)
        out[name] = piano_roll(score) if voices == 4 else f"{voices} parts, not 4"
    return out


def _sha256(*chunks: bytes) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def rolls_sha256(names: list[str], rolls: list[np.ndarray]) -> str:
    """One hash of named piano rolls: what `build` wrote, whatever the file's zip bytes."""
    return _sha256(*(f"{n}:{r.shape}".encode() + np.packbits(r, axis=1).tobytes()
                     for n, r in zip(names, rolls, strict=True)))


def build(out_dir=None, names: list[str] | None = None) -> dict:
    """Make the shipped data from the installed corpus: parse the Bach scores (`names`, or
    every one) into piano rolls, drop exact duplicates, save them with np.savez_compressed,
    and write the manifest: command, versions, counts and hashes of the sources, the rolls
    and the Essen tunes. Returns the manifest."""
    out_dir = Path(out_dir) if out_dir is not None else Path(__file__).parent / "datasets"
    music21, root = _music21(), corpus_root()
    names = sorted(names) if names is not None else chorale_files()
    parsed = chorale_rolls(names)
    kept, rolls, skipped, duplicates, seen = [], [], {}, {}, {}
    for name, roll in parsed.items():
        if isinstance(roll, str):
            skipped[name] = roll
            continue
        key = roll.tobytes() + str(roll.shape).encode()
        if key in seen:
            duplicates[name] = seen[key]
            continue
        seen[key] = name
        kept.append(name)
        rolls.append(roll)
    np.savez_compressed(out_dir / CHORALES_FILE, names=np.array(kept),
                        lengths=np.array([len(r) for r in rolls]),
                        frames=np.packbits(np.concatenate(rolls), axis=1))
    tunes = essen_tunes()
    manifest = {
        "command": COMMAND,
        "versions": {"python": platform.python_version(), "music21": music21.__version__,
                     "numpy": np.__version__},
        "chorales": {
            "file": CHORALES_FILE, "step_quarter_notes": STEP, "lowest_midi": LOWEST_PITCH,
            "keys": NUM_PITCHES, "read": len(names), "kept": len(kept),
            "split": {s: sum(split_of(n) == s for n in kept) for s in SPLITS},
            "steps": int(sum(len(r) for r in rolls)), "skipped": skipped,
            "duplicates_of": duplicates,
            "sources_sha256": _sha256(*((root / n).read_bytes() for n in names)),
            "rolls_sha256": rolls_sha256(kept, rolls)},
        "essen": {
            "files": [p.name for p in essen_files()], "tunes": len(tunes),
            "split": {s: sum(split_of(t) == s for t in tunes) for s in SPLITS},
            "text_sha256": _sha256("\n\n".join(tunes).encode())},
    }
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def load_manifest() -> dict:
    """The manifest `build` wrote next to the shipped chorales."""
    return json.loads(DATASETS.joinpath(MANIFEST_FILE).read_text())


def main(argv: list[str]) -> None:
    if argv != ["build"]:
        raise SystemExit(f"usage: {COMMAND}")
    manifest = build()
    c = manifest["chorales"]
    print(f"{c['kept']} chorales ({c['steps']} steps) written to {CHORALES_FILE}; "
          f"{len(c['skipped'])} scores skipped, {len(c['duplicates_of'])} duplicates; "
          f"{manifest['essen']['tunes']} Essen tunes hashed; manifest in {MANIFEST_FILE}")


if __name__ == "__main__":
    main(sys.argv[1:])
