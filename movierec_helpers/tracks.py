"""The course's two tracks and the one rule that says which track a module or a notebook belongs to.

A library module's track is its folder: ``movierec_helpers.models.tensorflow`` (Keras 3 and
TensorFlow) or ``movierec_helpers.models.torch`` (PyTorch); every other module is shared and
imports neither framework (``tests/course/test_layout.py`` holds the library to it). A notebook's
track is its ``movierec.track`` metadata: ``"tensorflow"`` when absent, ``"shared"`` for the
framework-free notebooks every track takes. The library, the self-check and the instructor's
tools (hand-outs, mutation tests, copy detection) all ask here.
"""

from __future__ import annotations

from collections.abc import Mapping

TRACKS = ("tensorflow", "pytorch")
SHARED = "shared"
DEFAULT_TRACK = "tensorflow"

#: The package that holds each track's framework code.
TRACK_PACKAGES = {
    "tensorflow": "movierec_helpers.models.tensorflow",
    "pytorch": "movierec_helpers.models.torch",
}

#: The top-level packages each track's framework code imports (and the other track's never does).
FRAMEWORK_MODULES = {"tensorflow": ("tensorflow", "keras", "tf_keras"), "pytorch": ("torch",)}


def module_track(module: str) -> str:
    """The track of a library module, by its dotted name: its folder decides.

    Args:
        module: a dotted name such as ``"movierec_helpers.models.torch.losses"``.

    Returns:
        ``"tensorflow"``, ``"pytorch"`` or ``"shared"``.
    """
    for track, package in TRACK_PACKAGES.items():
        if module == package or module.startswith(package + "."):
            return track
    return SHARED


def for_track(module: str, track: str) -> bool:
    """Whether a notebook of ``track`` may import ``module`` (its own track's or a shared one)."""
    return module_track(module) in (SHARED, track)


def notebook_track(metadata: Mapping) -> str:
    """The track of a notebook from its metadata (``metadata.movierec.track``; TensorFlow when absent)."""
    meta = metadata.get("movierec", {}) if isinstance(metadata, Mapping) else {}
    track = meta.get("track", DEFAULT_TRACK) if isinstance(meta, Mapping) else DEFAULT_TRACK
    return track if track in (*TRACKS, SHARED) else DEFAULT_TRACK
