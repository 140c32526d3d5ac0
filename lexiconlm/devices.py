"""Where computation runs: the one place that turns a ``--device`` value into a torch device
string, and :func:`sequential_tokenizers` (the ``tokenizers`` trainers on one thread).

torch is imported inside the function, so importing this module stays cheap.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from lexiconlm.errors import ConfigError


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when torch sees a CUDA device, else ``"cpu"``.

    ``"cpu"``, ``"cuda"`` and ``"cuda:N"`` are returned unchanged.

    Raises:
        ConfigError: ``cuda`` asked for without a CUDA device, or any other value.

    Example:
        >>> resolve_device("cpu")
        'cpu'
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError([f"device -> {device!r} asked for, but torch sees no CUDA device; use --device cpu or auto"])
    if device != "cpu" and not device.startswith("cuda"):
        raise ConfigError([f"device -> must be auto, cpu, cuda or cuda:N, got {device!r}"])
    return device


@contextmanager
def sequential_tokenizers() -> Iterator[None]:
    """Run the ``tokenizers`` trainers on one thread: their parallel reductions sum floats in
    varying order, which changes scores in the last digits and the order of ties between runs."""
    old = os.environ.get("TOKENIZERS_PARALLELISM")
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TOKENIZERS_PARALLELISM", None)
        else:
            os.environ["TOKENIZERS_PARALLELISM"] = old
