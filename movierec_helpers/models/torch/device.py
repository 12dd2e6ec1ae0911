"""The PyTorch track's one device rule, used by the notebooks' models and the library's alike.

``MOVIEREC_DEVICE`` (e.g. ``cpu``, ``cuda``, ``cuda:1``) chooses the device; without it, the GPU
when PyTorch sees one, else the CPU. Initial values are drawn on the CPU and then moved, so a
random state gives the same model on either device.
"""

from __future__ import annotations

import os

import torch

#: the environment variable that overrides :func:`default_device`
DEVICE_VARIABLE = "MOVIEREC_DEVICE"


def default_device() -> torch.device:
    """Where the course's models and rating tensors live.

    Returns:
        ``torch.device(MOVIEREC_DEVICE)`` when the variable is set; else ``cuda`` when PyTorch
        sees a GPU, else ``cpu``.

    Raises:
        ValueError: ``MOVIEREC_DEVICE`` names no device PyTorch knows, or a GPU it cannot see.
    """
    chosen = os.environ.get(DEVICE_VARIABLE, "").strip()
    if not chosen:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(chosen)
    except RuntimeError as err:
        raise ValueError(f"{DEVICE_VARIABLE}={chosen!r} is not a PyTorch device (e.g. cpu, cuda).") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{DEVICE_VARIABLE}={chosen!r} asks for a GPU, and PyTorch sees none here.")
    return device
