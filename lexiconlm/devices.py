"""The one place that turns a ``--device`` value into a torch device string.

torch is imported inside the function, so importing this module stays cheap.
"""

from __future__ import annotations

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
