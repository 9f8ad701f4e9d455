"""rnnbook: the helper package of a hands-on, tested textbook on recurrent networks.

    from rnnbook import LSTM, seed_everything, adding_problem, fit

What a chapter builds step by step in its cells, this package holds in final form, one
definition per idea:

- `rnnbook.checks`    argument checks with one wording of messages; `to_numpy`
- `rnnbook.seeding`   every seed through one helper, moved by RNNBOOK_SEED_SHIFT
- `rnnbook.gates`     the equations of the RNN, LSTM and GRU cells, one function each
- `rnnbook.cells`     cells for one time step, equal to torch.nn's
- `rnnbook.layers`    layers for whole sequences (stacked, bidirectional, packed), equal
                      to torch.nn's
- `rnnbook.variants`  cells and layers torch.nn lacks: the GRU as Cho et al. (2014) wrote it
- `rnnbook.kinds`     the registry of recurrent kinds: name -> cell, layer, gate count
- `rnnbook.fast`      exact fast paths for the LSTM, measured in chapter 15
- `rnnbook.scan`      linear recurrences as scans; minGRU and minLSTM
- `rnnbook.dropout`   dropout for recurrent layers: one mask per sequence, weight drop
- `rnnbook.tasks`     synthetic long-memory tasks: adding, copy, temporal order, Reber
- `rnnbook.series`    lag windows, time splits, a scaler without leakage, CO2, sunspots
- `rnnbook.text`      a shipped text corpus, a character vocabulary, batches, the LM loss
- `rnnbook.download`  a checksummed, cached download for optional data
- `rnnbook.models`    a recurrent layer with a head; a character language model
- `rnnbook.train`     device choice, progress bars, one small training loop
- `rnnbook.bptt`      truncated backpropagation through time, autograd's memory
- `rnnbook.gradients` gradient norms per time step, Jacobian products, gate traces
- `rnnbook.baselines` persistence, seasonal naive, linear AR, n-gram cross-entropy
- `rnnbook.compare`   parameter counts, size-matched models, FLOPs per step
- `rnnbook.bench`     fair timing, and `python -m rnnbook.bench` against torch.nn
- `rnnbook.plot`      cell diagrams, curves with their spread over seeds, gate pictures

and the modules of the applications:

- `rnnbook.forecast`  rolling forecast origins, MASE, sMAPE, intervals, recursive forecasts
- `rnnbook.classify`  two labelled sequence sets, pad-and-pack batches, read-outs, a classifier
- `rnnbook.language`  bits per character, Kneser-Ney, sampling, reading a model's cells
- `rnnbook.seq2seq`   dates to translate, an encoder-decoder with attention, beam search
- `rnnbook.anomaly`   labelled series, the UCR protocol, point and range metrics
- `rnnbook.music`     Bach chorales as piano rolls, MIDI, folk tunes as ABC text

The most used names are importable from `rnnbook` itself; the rest from their modules.
"""

from rnnbook.cells import GRUCell, LSTMCell, RNNCell
from rnnbook.download import download
from rnnbook.layers import GRU, LSTM, RNN
from rnnbook.models import CharLM, SequenceModel, recurrent_layer
from rnnbook.seeding import generator, numpy_rng, seed_everything
from rnnbook.series import StandardScaler, load_co2, load_sunspots, make_windows, split_series
from rnnbook.tasks import (
    ADDING_BASELINE_MSE,
    TEMPORAL_ORDER_SYMBOLS,
    adding_problem,
    copy_baseline,
    copy_task,
    is_reber,
    reber_strings,
    sine_waves,
    temporal_order,
)
from rnnbook.text import CharVocab, char_batches, lm_loss, load_text, stream_batches
from rnnbook.train import History, choose_device, fit, progress
from rnnbook.variants import ChoGRU, ChoGRUCell

__version__ = "0.2.0"
REPO_URL = "https://github.com/rnnbook/rnnbook"
"""Where the book lives. Colab and Binder links in every chapter point here."""


def launch_links(notebook: str) -> tuple[str, str]:
    """The Colab and Binder links that open chapters/`notebook` (e.g. "05_lstm.ipynb")."""
    owner_repo = REPO_URL.removeprefix("https://github.com/")
    colab = f"https://colab.research.google.com/github/{owner_repo}/blob/main/chapters/{notebook}"
    binder = f"https://mybinder.org/v2/gh/{owner_repo}/main?labpath=chapters%2F{notebook}"
    return colab, binder


__all__ = [
    "ADDING_BASELINE_MSE", "TEMPORAL_ORDER_SYMBOLS", "CharLM", "CharVocab", "ChoGRU",
    "ChoGRUCell", "GRU", "GRUCell", "History", "LSTM", "LSTMCell", "RNN", "RNNCell",
    "SequenceModel", "StandardScaler", "adding_problem", "char_batches", "choose_device",
    "copy_baseline", "copy_task", "download", "fit", "generator", "is_reber", "launch_links",
    "lm_loss", "load_co2", "load_sunspots", "load_text", "make_windows", "numpy_rng",
    "progress", "reber_strings", "recurrent_layer", "seed_everything", "sine_waves",
    "split_series", "stream_batches", "temporal_order",
]
