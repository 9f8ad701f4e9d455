"""rnnbook: the helper package of a hands-on, tested textbook on recurrent networks.

    from rnnbook import LSTM, seed_everything, adding_problem, fit

What a chapter builds step by step in its cells, this package holds in final form:

- `rnnbook.cells`     RNN, LSTM and GRU cells and layers from scratch, equal to torch.nn
- `rnnbook.variants`  cells torch.nn lacks: the GRU as Cho et al. (2014) wrote it
- `rnnbook.data`      synthetic tasks, real series, text, windows, scalers, vocabularies
- `rnnbook.baselines` persistence, seasonal naive, linear AR, n-gram cross-entropy
- `rnnbook.models`    a recurrent layer with a head; a character language model
- `rnnbook.train`     seeding, device choice, progress bars, one small training loop
- `rnnbook.gradients` gradient norms per time step, Jacobian products, gate values
- `rnnbook.bptt`      truncated backpropagation through time, autograd's memory
- `rnnbook.compare`   parameter counts, size-matched models, FLOPs per step
- `rnnbook.bench`     fair timing, and `python -m rnnbook.bench` against torch.nn
- `rnnbook.plot`      the figures more than one chapter draws

The most used names are importable from `rnnbook` itself; the rest from their modules.
"""

from rnnbook.cells import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from rnnbook.data import (
    ADDING_BASELINE_MSE,
    TEMPORAL_ORDER_SYMBOLS,
    CharVocab,
    StandardScaler,
    adding_problem,
    copy_baseline,
    copy_task,
    download,
    is_reber,
    load_co2,
    load_sunspots,
    load_text,
    make_windows,
    reber_strings,
    sine_waves,
    split_series,
    temporal_order,
)
from rnnbook.models import CharLM, SequenceModel, char_batches, lm_loss, recurrent_layer
from rnnbook.seeding import generator, numpy_rng, seed_everything
from rnnbook.train import History, choose_device, fit, progress

__version__ = "0.1.0"
REPO_URL = "https://github.com/rnnbook/rnnbook"
"""Where the book lives. Colab and Binder links in every chapter point here."""

__all__ = [
    "ADDING_BASELINE_MSE", "GRU", "LSTM", "RNN", "CharVocab", "GRUCell", "History",
    "LSTMCell", "RNNCell", "StandardScaler", "adding_problem", "choose_device",
    "copy_baseline", "copy_task", "fit", "load_co2", "load_sunspots", "load_text",
    "make_windows", "progress", "seed_everything", "split_series", "temporal_order",
    "TEMPORAL_ORDER_SYMBOLS", "CharLM", "SequenceModel", "char_batches", "lm_loss",
    "recurrent_layer", "download", "is_reber", "reber_strings", "sine_waves", "generator",
    "numpy_rng",
]
