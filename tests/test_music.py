"""rnnbook.music: piano rolls, the shipped chorales and their build, MIDI, ABC tunes."""

import math

import numpy as np
import pytest
import torch

from rnnbook import music

music21 = pytest.importorskip("music21")
from music21 import chord, note, stream  # noqa: E402


def hand_made_score():
    """Two voices: a soprano C5 (half), D5 (quarter), E5 + F5 (eighths), and a bass C3
    (whole note) under a rest-then-chord tenor part."""
    soprano, bass = stream.Part(), stream.Part()
    for name, length in (("C5", 2), ("D5", 1), ("E5", 0.5), ("F5", 0.5)):
        soprano.append(note.Note(name, quarterLength=length))
    bass.append(note.Rest(quarterLength=1))
    bass.append(chord.Chord(["C3", "G3"], quarterLength=3))
    return stream.Score([soprano, bass])


def keys(*names):
    return [music21.pitch.Pitch(n).midi - music.LOWEST_PITCH for n in names]


def test_piano_roll_of_a_hand_made_score():
    roll = music.piano_roll(hand_made_score())
    assert roll.shape == (4, 88) and roll.dtype == bool
    expected = [keys("C5"), keys("C5", "C3", "G3"), keys("D5", "C3", "G3"),
                keys("E5", "C3", "G3")]           # F5 starts at 3.5: between grid points
    for t, on in enumerate(expected):
        assert sorted(np.flatnonzero(roll[t])) == sorted(on), t


def test_piano_roll_on_an_eighth_note_grid():
    roll = music.piano_roll(hand_made_score(), step=0.5)
    assert roll.shape == (8, 88)
    assert sorted(np.flatnonzero(roll[6])) == sorted(keys("E5", "C3", "G3"))
    assert sorted(np.flatnonzero(roll[7])) == sorted(keys("F5", "C3", "G3"))
    assert roll[:4, keys("C5")[0]].all() and not roll[4:, keys("C5")[0]].any()


def test_piano_roll_rejects_bad_input():
    with pytest.raises(TypeError, match="score must be a music21 stream"):
        music.piano_roll(np.zeros((4, 88)))
    with pytest.raises(ValueError, match="step must be > 0"):
        music.piano_roll(hand_made_score(), step=0)
    with pytest.raises(ValueError, match="no notes"):
        music.piano_roll(stream.Score([stream.Part([note.Rest()])]))
    low = stream.Part([note.Note(midi=12)])
    with pytest.raises(ValueError, match=r"MIDI pitches \[12\] outside"):
        music.piano_roll(low)


def test_check_roll():
    assert music.check_roll(np.eye(88)[:3]).dtype == bool
    with pytest.raises(ValueError, match=r"shape \(steps, 88\)"):
        music.check_roll(np.zeros((3, 87)))
    with pytest.raises(ValueError, match="0/1 or bool"):
        music.check_roll(np.full((3, 88), 2))


def random_roll(seed, steps=20):
    rng = np.random.default_rng(seed)
    roll = rng.random((steps, 88)) < 0.05
    roll[-1, 40] = True                  # MIDI keeps nothing after the last note
    return roll


def test_roll_to_score_inverts_piano_roll():
    roll = random_roll(0)
    assert np.array_equal(music.piano_roll(music.roll_to_score(roll)), roll)
    assert np.array_equal(music.piano_roll(music.roll_to_score(roll, 0.5), 0.5), roll)


def test_midi_round_trip(tmp_path):
    roll = random_roll(1)
    path = music.write_midi(roll, tmp_path / "random.mid")
    assert path.stat().st_size > 0
    assert np.array_equal(music.read_midi(path), roll)
    chorale = music.load_chorales().test[0]
    assert np.array_equal(music.read_midi(music.write_midi(chorale, tmp_path / "c.mid")),
                          chorale)


def test_midi_errors(tmp_path):
    with pytest.raises(ValueError, match=r"\.mid or \.midi"):
        music.write_midi(random_roll(2), tmp_path / "x.wav")
    with pytest.raises(FileNotFoundError):
        music.read_midi(tmp_path / "missing.mid")


# ---------------------------------------------------------------------------------------
# The shipped data set and the script that makes it
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chorales():
    return music.load_chorales()


def test_shipped_chorales_match_their_manifest(chorales):
    manifest = music.load_manifest()
    c = manifest["chorales"]
    assert manifest["command"] == "python -m rnnbook.music build"
    assert set(manifest["versions"]) == {"python", "music21", "numpy"}
    assert {s: len(getattr(chorales, s)) for s in music.SPLITS} == c["split"]
    names = [n for s in music.SPLITS for n in chorales.names[s]]
    rolls = [r for s in music.SPLITS for r in getattr(chorales, s)]
    order = np.argsort(names)
    assert music.rolls_sha256([names[i] for i in order], [rolls[i] for i in order]) == \
        c["rolls_sha256"]
    assert sum(len(r) for r in rolls) == c["steps"]
    for split in music.SPLITS:
        assert all(music.split_of(n) == split for n in chorales.names[split])


def test_installed_corpus_is_the_one_the_data_were_built_from():
    """If this fails, music21's corpus changed: run `python -m rnnbook.music build`."""
    c, root = music.load_manifest()["chorales"], music.corpus_root()
    names = music.chorale_files()
    assert len(names) == c["read"]
    assert music._sha256(*((root / n).read_bytes() for n in names)) == c["sources_sha256"]
    essen = music.load_manifest()["essen"]
    tunes = music.essen_tunes()
    assert len(tunes) == essen["tunes"]
    assert music._sha256(music.TUNE_SEPARATOR.join(tunes).encode()) == essen["text_sha256"]


def test_build_reproduces_the_shipped_rolls_on_a_few_files(chorales, tmp_path):
    shipped = {n: r for s in music.SPLITS
               for n, r in zip(chorales.names[s], getattr(chorales, s), strict=True)}
    some = [chorales.names[s][0] for s in music.SPLITS] + ["bach/bwv66.6.mxl"]
    manifest = music.build(tmp_path, names=[*some, "bach/bwv1.6.mxl"])
    assert manifest["chorales"]["skipped"] == {"bach/bwv1.6.mxl": "5 parts, not 4"}
    assert manifest["essen"] == music.load_manifest()["essen"]
    with np.load(tmp_path / music.CHORALES_FILE) as data:
        names = data["names"].tolist()
        frames = np.unpackbits(data["frames"], axis=1, count=88).astype(bool)
        rebuilt = np.split(frames, np.cumsum(data["lengths"])[:-1])
    assert sorted(names) == sorted(some)
    for name, roll in zip(names, rebuilt, strict=True):
        assert np.array_equal(roll, shipped[name]), name


def test_split_of_is_fixed_and_roughly_60_20_20():
    assert music.split_of("bach/bwv66.6.mxl") == music.split_of("bach/bwv66.6.mxl")
    counts = {s: 0 for s in music.SPLITS}
    for i in range(3000):
        counts[music.split_of(f"item {i}")] += 1
    assert abs(counts["train"] / 3000 - 0.6) < 0.03
    assert abs(counts["valid"] / 3000 - 0.2) < 0.03
    with pytest.raises(TypeError):
        music.split_of(3)


# ---------------------------------------------------------------------------------------
# Frame models: batches, the loss, the baselines, sampling
# ---------------------------------------------------------------------------------------

def test_frame_batch_shifts_and_pads():
    a, b = random_roll(3, 5), random_roll(4, 3)
    x, y = music.frame_batch([a, b])
    assert x.shape == y.shape == (2, 5, 88)
    assert not x[:, 0].any()                              # the all-zero start frame
    assert torch.equal(x[0, 1:], torch.tensor(a[:-1]).float())
    assert torch.equal(y[1, :3], torch.tensor(b).float())
    assert (y[1, 3:] == music.PAD).all() and not x[1, 3:].any()
    with pytest.raises(ValueError, match="non-empty list"):
        music.frame_batch([])


def test_frame_nll_skips_padding_and_sums_over_keys():
    torch.manual_seed(0)
    a, b = random_roll(5, 6), random_roll(6, 4)
    x, y = music.frame_batch([a, b])
    logits = torch.randn(2, 6, 88)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    by_hand = (bce(logits[0], y[0], reduction="sum") +
               bce(logits[1, :4], y[1, :4], reduction="sum")) / 10
    assert torch.allclose(music.frame_nll(logits, y), by_hand)
    assert torch.allclose(music.frame_nll(logits[:1], y[:1]),           # 88 x the default
                          88 * bce(logits[:1], y[:1]))
    with pytest.raises(ValueError, match="both be"):
        music.frame_nll(logits[..., :80], y[..., :80])
    with pytest.raises(TypeError, match="must be tensors"):
        music.frame_nll(logits.numpy(), y)
    with pytest.raises(ValueError, match="only padding"):
        music.frame_nll(logits, torch.full_like(y, music.PAD))


def test_baselines_by_hand():
    train = [np.eye(88, dtype=bool)[[0, 0, 1, 1]]]         # key 0 twice, then key 1 twice
    uniform = music.bernoulli_nll(np.full(88, 0.5), train)
    assert math.isclose(uniform, 88 * math.log(2))
    # marginal: keys 0 and 1 on half the time, the others never (clipped to 1e-6)
    expected = 2 * math.log(2) + 86 * -math.log1p(-1e-6)
    assert math.isclose(music.marginal_nll(train, train), expected, rel_tol=1e-9)
    # repeat with weight 0: the first step as the marginal, then the previous frame for
    # sure (clipped to 1 - 1e-6), so the change at the third step costs -log(1e-6) twice
    c, d = -math.log1p(-1e-6), -math.log(1e-6)
    by_hand = (2 * math.log(2) + 86 * c + 88 * c + (2 * d + 86 * c) + 88 * c) / 4
    assert math.isclose(music.repeat_nll(train, train, weight=0.0), by_hand, rel_tol=1e-9)
    lam = music.repeat_weight(train)
    assert 0 < lam < 1
    assert music.repeat_nll(train, train) <= music.repeat_nll(train, train, 0.5) + 1e-9
    with pytest.raises(ValueError, match="weight must be"):
        music.repeat_nll(train, train, 1.5)


def test_repeat_beats_marginal_on_real_chorales(chorales):
    assert music.repeat_nll(chorales.train, chorales.valid) < \
        music.marginal_nll(chorales.train, chorales.valid)


def test_sample_roll_shapes_and_generator():
    model = torch.nn.Sequential(torch.nn.Linear(88, 88))
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    a, b = music.sample_roll(model, 7, 3, g1), music.sample_roll(model, 7, 3, g2)
    assert a.shape == (3, 7, 88) and a.dtype == bool and np.array_equal(a, b)
    with pytest.raises(ValueError, match="steps"):
        music.sample_roll(model, 0)


# ---------------------------------------------------------------------------------------
# ABC tunes
# ---------------------------------------------------------------------------------------

FILE = """
X:1
T: A title
N: A0001
M: 3/4
L: 1/4
K: G
D | G2A | B3 | A2G | F2

X:2
T: Another
M: 2/4
L: 1/8
K: F
cA | F2
"""


def test_clean_abc_keeps_meter_length_key_and_notes():
    assert music.clean_abc(FILE) == ["M:3/4\nL:1/4\nK:G\nD | G2A | B3 | A2G | F2",
                                     "M:2/4\nL:1/8\nK:F\ncA | F2"]
    with pytest.raises(TypeError):
        music.clean_abc(b"X:1")


def test_check_tune():
    good = music.clean_abc(FILE)[0]
    assert music.check_tune(good) == music.TuneCheck(True, 3, 3)
    assert music.check_tune(good).wellformed
    short_bar = good.replace("B3", "B2")
    assert music.check_tune(short_bar) == music.TuneCheck(True, 3, 2)
    assert not music.check_tune(short_bar).wellformed
    assert music.check_tune("M:none\nL:1/4\nK:C\nCDEF") == music.TuneCheck(True, 0, 0)
    assert not music.check_tune("hello world").parses
    with pytest.raises(TypeError):
        music.check_tune(None)


def test_essen_tunes_and_splits():
    tunes = music.essen_tunes()
    assert len(tunes) == len(set(tunes)) > 8000
    assert all(t.startswith("M:") for t in tunes[:100])
    parts = {s: music.load_abc(s) for s in music.SPLITS}
    assert sum(len(p) for p in parts.values()) == len(tunes)
    assert not set(parts["train"]) & set(parts["test"])
    with pytest.raises(ValueError, match="split must be one of"):
        music.load_abc("dev")


def test_ngram_tunes_copy_what_they_saw():
    text = "M:2/4\nL:1/8\nK:C\nCDEF | G4\n\nM:6/8\nL:1/16\nK:G\nGAB | c3\n\n"
    tunes = music.ngram_tunes(text, order=8, n=5, rng=np.random.default_rng(0))
    assert all(t and t in text for t in tunes)        # long contexts: the corpus verbatim
    with pytest.raises(ValueError, match="blank lines"):
        music.ngram_tunes("no tunes here", 3, 1, np.random.default_rng(0))


def test_sample_tunes_stop_at_a_blank_line():
    from rnnbook import CharLM, CharVocab

    vocab = CharVocab("M:2/4\nL:1/8\nK:C\nCDEF|\n")
    torch.manual_seed(0)
    lm = CharLM(len(vocab), 8, kind="gru")
    tunes = music.sample_tunes(lm, vocab, 4, generator=torch.Generator().manual_seed(1),
                               max_chars=50)
    assert len(tunes) == 4 and all(len(t) <= 50 and "\n\n" not in t for t in tunes)
    with pytest.raises(ValueError, match="temperature"):
        music.sample_tunes(lm, vocab, 1, temperature=0)
