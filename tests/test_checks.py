"""rnnbook.checks: one wording for every argument check, NumPy numbers accepted, bools not."""

import numpy as np
import pandas as pd
import pytest
import torch

from rnnbook.checks import InputError, check_bool, check_choice, check_float, check_int, to_numpy


def test_input_error_is_both_what_the_book_promises_and_what_torch_raises():
    assert issubclass(InputError, ValueError) and issubclass(InputError, RuntimeError)
    for caught in (ValueError, RuntimeError):
        with pytest.raises(caught, match="shape"):
            raise InputError("wrong shape")


@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3), np.uint8(3),
                                   torch.tensor(3).item()])
def test_check_int_accepts_python_and_numpy_integers(value):
    out = check_int("n", value)
    assert out == 3 and type(out) is int


@pytest.mark.parametrize("value", [True, np.bool_(True), 3.0, "3", None, np.float64(3), [3]])
def test_check_int_rejects_what_is_not_an_integer(value):
    with pytest.raises(TypeError, match=r"^n must be an int, got "):
        check_int("n", value)


@pytest.mark.parametrize("kwargs, value, bounds", [
    ({}, 0, ">= 1"), (dict(minimum=0), -1, ">= 0"), (dict(minimum=None, maximum=5), 6, "<= 5"),
    (dict(minimum=2, maximum=4), 5, r"in \[2, 4\]"),
    (dict(minimum=2, maximum=4), 1, r"in \[2, 4\]"),
])
def test_check_int_bounds_say_what_was_expected_and_what_came(kwargs, value, bounds):
    with pytest.raises(ValueError, match=rf"^k must be an int {bounds}, got {value}$"):
        check_int("k", value, **kwargs)


def test_check_int_without_bounds_takes_any_integer():
    assert check_int("k", -10**30, minimum=None) == -10**30


@pytest.mark.parametrize("value", [0.5, 1, np.float32(0.5), np.int64(1)])
def test_check_float_accepts_real_numbers(value):
    out = check_float("lr", value, minimum=0)
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize("value, error, match", [
    (True, TypeError, "lr must be a number, got True"),
    ("0.1", TypeError, "lr must be a number, got '0.1'"),
    (None, TypeError, "lr must be a number, got None"),
    (complex(1, 1), TypeError, "lr must be a number"),
    (float("nan"), ValueError, "lr must be a finite number, got nan"),
    (float("inf"), ValueError, "lr must be a finite number, got inf"),
    (-float("inf"), ValueError, "lr must be a finite number, got -inf"),
])
def test_check_float_rejects_non_numbers_and_non_finite(value, error, match):
    with pytest.raises(error, match=match):
        check_float("lr", value)


@pytest.mark.parametrize("kwargs, value, match", [
    (dict(minimum=0), -0.1, "x must be >= 0, got -0.1"),
    (dict(maximum=1), 1.5, "x must be <= 1, got 1.5"),
    (dict(above=0), 0.0, "x must be > 0, got 0.0"),
    (dict(below=1), 1.0, "x must be < 1, got 1.0"),
])
def test_check_float_inclusive_and_exclusive_bounds(kwargs, value, match):
    with pytest.raises(ValueError, match=match):
        check_float("x", value, **kwargs)
    # The bound itself passes an inclusive check.
    if "minimum" in kwargs or "maximum" in kwargs:
        bound = kwargs.get("minimum", kwargs.get("maximum"))
        assert check_float("x", bound, **kwargs) == bound


def test_check_bool_refuses_truthy_strings_and_ints():
    assert check_bool("flag", True) is True and check_bool("flag", np.bool_(False)) is False
    for value in ("no", "False", 0, 1, None):
        with pytest.raises(TypeError, match=rf"flag must be a bool, got {value!r}"):
            check_bool("flag", value)


def test_check_choice():
    assert check_choice("kind", "lstm", ("rnn", "lstm")) == "lstm"
    with pytest.raises(ValueError, match=r"kind must be one of \('rnn', 'lstm'\), got 'gru'"):
        check_choice("kind", "gru", ("rnn", "lstm"))
    with pytest.raises(ValueError, match=r"got \['lstm'\]"):           # unhashable, no crash
        check_choice("kind", ["lstm"], ("rnn", "lstm"))


def test_long_values_are_summarised_in_messages():
    with pytest.raises(TypeError, match=r"n must be an int, got a list of 100$"):
        check_int("n", list(range(100)))
    with pytest.raises(TypeError, match=r"n must be an int, got a tensor of shape \(2, 3\)$"):
        check_int("n", torch.zeros(2, 3))
    with pytest.raises(TypeError, match=r"n must be an int, got \(1, 2\)$"):
        check_int("n", (1, 2))


@pytest.mark.parametrize("values", [[1.0, 2.0], np.array([1, 2]), torch.tensor([1.0, 2.0]),
                                    pd.Series([1.0, 2.0]), (1, 2)])
def test_to_numpy_converts_lists_arrays_tensors_and_pandas(values):
    arr = to_numpy(values, "x")
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float64
    np.testing.assert_array_equal(arr, [1.0, 2.0])


def test_to_numpy_keeps_the_dtype_on_request_and_detaches_tensors():
    t = torch.tensor([1, 2, 3])
    assert to_numpy(t, "ids", dtype=None).dtype == np.int64
    w = torch.ones(2, requires_grad=True)
    np.testing.assert_array_equal(to_numpy(w * 2, "w"), [2.0, 2.0])


@pytest.mark.parametrize("values, error, match", [
    ("abc", TypeError, "x must hold numbers, got a str"),
    (b"abc", TypeError, "x must hold numbers, got a bytes"),
    ([[1.0, 2.0], [3.0]], ValueError, "x must be a rectangular array"),
    (np.array(["a", "b"]), TypeError, "x must hold numbers, got dtype <U1"),
    ([True, False], TypeError, "x must hold numbers, got booleans"),
    ([{"a": 1}], TypeError, "x must hold numbers, got dtype object"),
])
def test_to_numpy_rejects_what_is_not_numbers(values, error, match):
    with pytest.raises(error, match=match):
        to_numpy(values, "x")


def test_to_numpy_checks_dimensions():
    with pytest.raises(ValueError, match=r"x must have 1 or 2 dimension\(s\), got shape "
                                         r"\(1, 1, 1\)"):
        to_numpy(np.zeros((1, 1, 1)), "x", ndim=(1, 2))
    assert to_numpy(np.zeros((2, 3)), "x", ndim=(1, 2)).shape == (2, 3)


def test_to_numpy_says_where_the_first_non_finite_values_are():
    with pytest.raises(ValueError, match=r"x contains NaN or infinity at \[\[1\], \[3\]\]"):
        to_numpy([0.0, np.nan, 1.0, np.inf], "x")
    assert np.isnan(to_numpy([np.nan], "x", finite=False)[0])
