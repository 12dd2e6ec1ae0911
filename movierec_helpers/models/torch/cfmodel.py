"""CFModel for the PyTorch track: the course's training loop over PyTorch tensors.

It trains a ``torch.nn.Module`` with a loss and metric groups that take the module
(``CFModel(module, loss, metrics)``), or, as the TensorFlow track's
:class:`movierec_helpers.models.tensorflow.cfmodel.CFModel` does, named tensors and closures. Each
step is the loop a PyTorch user writes (``zero_grad``, the loss, ``backward``, ``step``) with the
losses kept on the device until a logging point; logging, divergence and charts are shared
(:class:`~movierec_helpers.models.training_loop.TrainingLoop`). Steps run eagerly: on the
course's models ``torch.compile`` gains less per step than its first compilation costs
(``make bench`` measures both; ``compile=True`` turns it on). Tensors live where the caller
puts them; :func:`~movierec_helpers.models.torch.device.default_device` is the course's rule.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from movierec_helpers.models.torch.device import default_device
from movierec_helpers.models.training_loop import TrainingDivergedError, TrainingLoop

__all__ = ["CFModel", "TrainingDivergedError", "default_device", "module_embeddings"]


class FrameworkClash(ImportError):
    """TensorFlow was loaded in this process before PyTorch's compiler could be."""


def _load_compiler_before_tensorflow() -> None:
    # torch.optim loads torch._dynamo, which loads triton (PyTorch's GPU compiler, installed
    # with torch on Linux). Triton's LLVM loaded after TensorFlow's crashes the process
    # (a segmentation fault in the first optimizer step); loaded first, both work.
    if "triton" in sys.modules or importlib.util.find_spec("triton") is None:
        return
    if "tensorflow" in sys.modules:
        raise FrameworkClash(
            "TensorFlow is already loaded in this kernel, and PyTorch's compiler (triton) crashes the "
            "kernel when it loads after TensorFlow. Restart the kernel (Kernel > Restart) and run this "
            "PyTorch notebook on its own, without importing TensorFlow or a TensorFlow-track module."
        )
    import torch._dynamo  # noqa: F401 - loads triton now


_load_compiler_before_tensorflow()

# A sparse tensor whose indices are out of range then fails with a message when it is built,
# instead of crashing the kernel later (PyTorch leaves the checks off by default).
torch.sparse.check_sparse_tensor_invariants.enable()

LossFn = Callable[..., torch.Tensor]

#: Up to this many parameters a model on the CPU trains on one thread. Each of its operations
#: takes a millisecond or two; split over threads that share their cores with other work (a
#: class graded two notebooks at a time, other kernels) they wait for each other: notebook 04's
#: step took 10x longer on two busy cores than on one (``make bench``).
ONE_THREAD_PARAMETERS = 1 << 20


class CFModel(TrainingLoop):
    """A collaborative-filtering model over PyTorch tensors, trained by gradient descent.

    Args:
        embedding_vars: a ``torch.nn.Module`` (its embeddings are the weights of its
            ``nn.Embedding`` children and its own ``nn.Parameter`` s, by attribute name), or
            name -> leaf tensor that requires gradients, e.g. ``{"user_id": U, "movie_id": V}``.
        loss: the scalar loss tensor to minimise: a callable taking the module, or taking
            nothing when ``embedding_vars`` is a mapping.
        metrics: groups of metrics; each maps a name to a callable returning a scalar
            tensor, or is one callable returning such a mapping; each takes the module, or
            nothing, as ``loss`` does. Evaluated without gradients.
        trainable_variables: the tensors to optimise (default: the module's parameters, or
            the embeddings).
        compile: run each step through ``torch.compile`` (slower for short runs: the first
            step compiles).
        cpu_threads: threads of PyTorch's CPU operations while ``train`` runs (restored after);
            default: one for a model on the CPU with at most ``ONE_THREAD_PARAMETERS``
            parameters (the course's models), else PyTorch's own count.

    Raises:
        TypeError: an embedding is not a tensor, or ``loss`` is not callable.
        ValueError: an embedding is not a leaf tensor that requires gradients, or the
            ``user_id`` and ``movie_id`` dimensions differ.
    """

    def __init__(
        self,
        embedding_vars: torch.nn.Module | Mapping[str, torch.Tensor],
        loss: LossFn,
        metrics: Sequence[Mapping[str, LossFn] | Callable[[], Mapping[str, torch.Tensor]]] = (),
        trainable_variables: Sequence[torch.Tensor] | None = None,
        compile: bool = False,
        cpu_threads: int | None = None,
    ) -> None:
        self.module = embedding_vars if isinstance(embedding_vars, torch.nn.Module) else None
        if self.module is not None:
            embedding_vars, loss, metrics = _bind(self.module, loss, metrics)
            trainable_variables = trainable_variables or list(self.module.parameters())
        for name, var in embedding_vars.items():
            _check_trainable(name, var)
        super().__init__(embedding_vars, loss, metrics)
        self._variables = list(trainable_variables or self._embedding_vars.values())
        for i, var in enumerate(self._variables):
            _check_trainable(f"trainable_variables[{i}]", var)
        self._compile = compile
        self._cpu_threads = cpu_threads
        self._threads_before: int | None = None
        self._opt: torch.optim.Optimizer | None = None
        self._step = _step_function(self)
        self._compiled_step: Callable | None = None

    @staticmethod
    def _to_numpy(variable) -> np.ndarray:
        # A copy, as TensorFlow's .numpy() gives: .numpy() of a CPU tensor shares its memory,
        # and training would change embeddings read before it.
        return variable.detach().cpu().numpy().copy()

    @property
    def device(self) -> str:
        """``"GPU"`` or ``"CPU"``: where the variables (and so the training) live."""
        return "GPU" if self._variables[0].is_cuda else "CPU"

    # -- the TrainingLoop hooks ----------------------------------------------------------

    def _evaluate_groups(self) -> list[dict[str, torch.Tensor]]:
        with torch.no_grad():
            groups = [
                dict(group()) if callable(group) else {name: fn() for name, fn in group.items()}
                for group in self._metrics
            ]
            return groups or [{"loss": self._loss()}]

    def _begin(self, optimizer, learning_rate: float) -> None:
        # A fresh optimizer on every call, as the TensorFlow track's train() has.
        self._opt = _make_optimizer(optimizer, learning_rate, self._variables)
        threads = self._cpu_threads
        if threads is None and self.device == "CPU":
            small = sum(v.numel() for v in self._variables) <= ONE_THREAD_PARAMETERS
            threads = 1 if small else None
        self._threads_before = torch.get_num_threads()
        if threads:
            torch.set_num_threads(threads)
        if self._compile and self._compiled_step is None:
            self._compiled_step = torch.compile(self._step)

    def _snapshot(self) -> list[torch.Tensor]:
        return [v.detach().clone() for v in self._variables]

    def _restore(self, snapshot: list[torch.Tensor]) -> None:
        with torch.no_grad():
            for var, value in zip(self._variables, snapshot):
                var.copy_(value)

    def _run(self, steps: int) -> tuple[int, float, bool]:
        step = self._compiled_step if self._compile else self._step
        # The losses stay on the device until the chunk ends: no host sync per step.
        losses = torch.stack([step(self._opt) for _ in range(steps)])
        finite = torch.isfinite(losses)
        if bool(finite.all()):
            return steps, float(losses[-1]), True
        first_bad = int(torch.nonzero(~finite)[0, 0])
        return first_bad + 1, float(losses[first_bad]), False

    def _end(self, optimizer) -> None:
        self._opt = None
        if self._threads_before is not None:
            torch.set_num_threads(self._threads_before)


def module_embeddings(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A module's embeddings by attribute name: its ``nn.Embedding`` children and own parameters.

    Raises:
        ValueError: the module has neither.
    """
    found = {
        name: child.weight for name, child in module.named_children() if isinstance(child, torch.nn.Embedding)
    }
    found.update(module.named_parameters(recurse=False))
    if not found:
        raise ValueError(
            f"{type(module).__name__} has no embeddings: give it torch.nn.Embedding attributes "
            "(e.g. self.user_id = torch.nn.Embedding(num_users, d)) or torch.nn.Parameter ones."
        )
    return found


def _bind(module: torch.nn.Module, loss, metrics) -> tuple[dict, Callable, list]:
    """The module's embeddings, and its loss and metrics as callables without arguments."""
    if not callable(loss):
        raise TypeError(
            "loss must be a callable that takes the module and returns a scalar tensor, e.g. "
            f"lambda model: sparse_mean_square_error(A_train, model.U, model.V); got {type(loss).__name__}."
        )

    def bound(fn):
        return lambda: fn(module)

    groups = [bound(g) if callable(g) else {name: bound(fn) for name, fn in g.items()} for g in metrics]
    return module_embeddings(module), bound(loss), groups


def _step_function(model: CFModel) -> Callable[[torch.optim.Optimizer], torch.Tensor]:
    """One gradient step on the model's loss (a closure over the loss, not a method)."""
    loss_fn, variables = model._loss, model._variables

    def step(opt: torch.optim.Optimizer) -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        _check_loss(loss, variables)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def _check_trainable(name: str, var) -> None:
    if not isinstance(var, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor (a torch.nn.Parameter); got {type(var).__name__}.")
    if not (var.is_leaf and var.requires_grad):
        raise ValueError(
            f"{name} must be a tensor that training can update: a leaf tensor that requires "
            "gradients. Wrap its initial value, e.g. torch.nn.Parameter(torch.randn(n, d, "
            "generator=g) * init_stddev)."
        )


def _check_loss(loss, variables) -> None:
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise TypeError(f"The loss must return a scalar torch tensor; got {shape}.")
    if loss.grad_fn is None and not any(loss is v for v in variables):
        raise ValueError(
            "The loss does not depend on the embeddings through PyTorch operations (it has no "
            "grad_fn): compute it with torch operations on U and V, not with NumPy, .item() "
            "or .detach()."
        )


def _make_optimizer(optimizer, learning_rate: float, variables: list[torch.Tensor]) -> torch.optim.Optimizer:
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if optimizer == "sgd":
        return torch.optim.SGD(variables, lr=learning_rate)
    if optimizer == "adagrad":
        # The TF1 AdagradOptimizer of Google's course starts its accumulators at 0.1.
        return torch.optim.Adagrad(variables, lr=learning_rate, initial_accumulator_value=0.1)
    raise ValueError(
        f"Unknown optimizer {optimizer!r}: use 'sgd', 'adagrad' or a torch.optim optimizer instance."
    )
