"""Argument checks shared by the package's modules."""


def check_int(name: str, value, minimum: int = 1) -> None:
    """Raise a ValueError naming `name` unless `value` is an int (not a bool) >= minimum."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
