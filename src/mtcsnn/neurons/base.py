"""Shared machinery of the neuron layers: parameters, state and the time loop.

Every neuron type in :mod:`mtcsnn.neurons` is written the same way:

* a frozen, validated parameter dataclass whose fields are scalars or
  per-neuron tensors of shape ``[N]``;
* a ``NamedTuple`` state and a pure step function
  ``step(i_in, state, p) -> (s, state)`` on tensors of shape ``[B, N]``;
* a thin :class:`NeuronLayer` module that registers the parameters (trained
  ones as :class:`torch.nn.Parameter` behind a constraint parametrisation, the
  others as buffers, so that all of them round-trip through ``state_dict``),
  makes a fresh initial state on every call, and loops the step function over
  time. Parameters that a published model clamps after each optimiser step
  instead are projected back by :meth:`NeuronLayer.apply_constraints`, which
  a training loop calls after every ``optimizer.step()``.

Sequences are time-first, ``[T, B, N]``, unless the layer was built with
``batch_first=True``, in which case they are ``[B, T, N]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

Value = float | Tensor
"""A neuron parameter: a Python number, a 0-d tensor or a per-neuron ``[N]``."""


# ----------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------


def as_tensor(value: Value) -> Tensor:
    """Return ``value`` as a float64 tensor on the CPU (for validation only)."""
    if isinstance(value, Tensor):
        return value.detach().to(device="cpu", dtype=torch.float64)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number or a tensor, got {type(value).__name__}")
    return torch.tensor(float(value), dtype=torch.float64)


def _first_bad(values: Tensor, ok: Tensor) -> str:
    """Describe the first element of ``values`` where ``ok`` is false."""
    if values.dim() == 0:
        return repr(values.item())
    index = int((~ok).nonzero()[0, 0])
    return f"{values[index].item()!r} (neuron {index})"


def check(
    owner: str,
    name: str,
    value: Value,
    *,
    low: float | None = None,
    low_open: bool = False,
    high: float | None = None,
) -> None:
    """Raise :class:`ValueError` unless ``value`` is finite and within bounds.

    Parameters
    ----------
    owner, name
        Class and field name, used in the message.
    value
        Scalar or tensor to check, element-wise.
    low, high
        Bounds; ``low`` is exclusive when ``low_open`` is true, ``high`` is
        always inclusive. ``None`` leaves that side open.
    """
    values = as_tensor(value)
    if values.dim() > 1:
        raise ValueError(
            f"{owner}.{name} must be a scalar or a per-neuron 1-d tensor, "
            f"got shape {tuple(values.shape)}"
        )
    finite = torch.isfinite(values)
    if not bool(finite.all()):
        raise ValueError(f"{owner}.{name} = {_first_bad(values, finite)} is not finite")
    if low is not None:
        ok = values > low if low_open else values >= low
        if not bool(ok.all()):
            bound = f"> {low:g}" if low_open else f">= {low:g}"
            raise ValueError(
                f"{owner}.{name} = {_first_bad(values, ok)} is out of range: "
                f"must be {bound}"
            )
    if high is not None:
        ok = values <= high
        if not bool(ok.all()):
            raise ValueError(
                f"{owner}.{name} = {_first_bad(values, ok)} is out of range: "
                f"must be <= {high:g}"
            )


def check_number(owner: str, name: str, value: Any, **bounds: Any) -> None:
    """Like :func:`check`, for a field that must be a plain Python number.

    Raises
    ------
    TypeError
        If ``value`` is a tensor, a bool or not a number.
    ValueError
        If it is not finite or out of ``bounds`` (the keywords of :func:`check`).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{owner}.{name} must be a Python number, got {value!r}")
    check(owner, name, value, **bounds)


def replace_fields(params: Any, **changes: Value) -> Any:
    """Return a copy of a parameter dataclass with fields changed (validated).

    Raises
    ------
    ValueError
        If a name is not a field of the dataclass, or a new value is invalid.
    """
    names = {f.name for f in dataclasses.fields(params)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise ValueError(
            f"{type(params).__name__} has no parameter {', '.join(unknown)}; "
            f"known: {', '.join(sorted(names))}"
        )
    return dataclasses.replace(params, **changes)


def unchecked(cls: type, **fields: Value) -> Any:
    """Build a parameter dataclass without running its validation.

    Used inside modules, whose values are kept valid by construction (the
    constraint parametrisations), so that no check runs at every forward call.
    """
    obj = object.__new__(cls)
    for key, value in fields.items():
        object.__setattr__(obj, key, value)
    return obj


# ----------------------------------------------------------------------------
# Constraint parametrisations
# ----------------------------------------------------------------------------


class Positive(nn.Module):
    """Keep a parameter above a lower bound: ``value = low + exp(raw)``.

    The gradient never pushes the value through the bound, so no clamping is
    needed. ``low = 0`` keeps gains positive; ``low = dt / 2`` keeps a time
    constant where explicit Euler stays stable (``dt / tau < 2``).
    """

    def __init__(self, low: float = 0.0) -> None:
        super().__init__()
        self.low = float(low)

    def forward(self, raw: Tensor) -> Tensor:
        return self.low + torch.exp(raw)

    def right_inverse(self, value: Tensor) -> Tensor:
        tiny = torch.finfo(value.dtype).tiny
        return torch.log(torch.clamp(value - self.low, min=tiny))

    def extra_repr(self) -> str:
        return f"low={self.low:g}"


class Interval(nn.Module):
    """Keep a parameter inside ``(low, high)``.

    ``value = low + (high - low) sigmoid(raw)``.
    """

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        if not high > low:
            raise ValueError(f"Interval needs high > low, got [{low}, {high}]")
        self.low = float(low)
        self.high = float(high)

    def forward(self, raw: Tensor) -> Tensor:
        return self.low + (self.high - self.low) * torch.sigmoid(raw)

    def right_inverse(self, value: Tensor) -> Tensor:
        eps = torch.finfo(value.dtype).eps
        unit = ((value - self.low) / (self.high - self.low)).clamp(eps, 1 - eps)
        return torch.log(unit) - torch.log1p(-unit)

    def extra_repr(self) -> str:
        return f"low={self.low:g}, high={self.high:g}"


class Interpolation(nn.Module):
    """Interpolate between two bounds: ``value = w high + (1 - w) low``.

    The raw parameter is the weight ``w``; the value lies in ``[low, high]``
    while ``w`` lies in ``[0, 1]``. Unlike :class:`Positive` and
    :class:`Interval`, nothing here stops the optimiser from moving ``w``
    outside ``[0, 1]``: the layer that uses it clamps ``w`` back in its
    :meth:`NeuronLayer.apply_constraints`, which the training loop calls after
    every optimiser step. The gradient with respect to ``w`` is the value's
    gradient times ``high - low``, constant, so time constants move evenly
    over their whole range.
    """

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        if not high > low:
            raise ValueError(f"Interpolation needs high > low, got [{low}, {high}]")
        self.low = float(low)
        self.high = float(high)

    def forward(self, w: Tensor) -> Tensor:
        return w * self.high + (1.0 - w) * self.low

    def right_inverse(self, value: Tensor) -> Tensor:
        return (value - self.low) / (self.high - self.low)

    def extra_repr(self) -> str:
        return f"low={self.low:g}, high={self.high:g}"


# ----------------------------------------------------------------------------
# The layer
# ----------------------------------------------------------------------------


class NeuronLayer(nn.Module):
    """A layer of ``N`` independent neurons run over a whole input sequence.

    Subclasses set :attr:`State` (a ``NamedTuple`` of ``[B, N]`` tensors),
    :attr:`Trace` (a ``NamedTuple`` with the output ``s`` first, then one
    ``[T, B, N]`` field per state), :attr:`Params` (the parameter dataclass)
    and :attr:`constraints`, and implement :meth:`initial_state` and
    :meth:`step`.

    Parameters
    ----------
    n_neurons
        Number of neurons ``N``.
    params
        The parameter dataclass instance.
    train
        Names of the parameters to train (``"all"`` for every trainable one).
        Each trained parameter is per-neuron, shape ``[N]``.
    batch_first
        If true, sequences are ``[B, T, N]`` instead of ``[T, B, N]``.
    device, dtype
        Where and in which floating type the parameters are made (default:
        the CPU and torch's default dtype).
    backend
        Which implementation runs the time loop: ``"auto"`` (the default:
        fused kernels where they exist for the input's device and dtype, see
        :mod:`mtcsnn.kernels`), ``"torch"`` (the plain loop below, the
        reference), ``"cpu"`` or ``"triton"``. An attribute; it may be
        changed at any time.
    checkpoint
        ``None`` (the default) stores every state for the backward of a fused
        scan; an int ``L`` stores only every ``L``-th and recomputes the rest
        during the backward, for long sequences. The plain path ignores it.
    """

    State: ClassVar[type]
    Trace: ClassVar[type]
    Params: ClassVar[type]
    #: Trainable parameter names and the parametrisation that keeps each valid
    #: (``None``: unconstrained). Names missing here can never be trained.
    constraints: ClassVar[dict[str, Any]]
    #: Parameter fields kept as plain Python numbers, never tensors.
    static_fields: ClassVar[tuple[str, ...]] = ("dt",)
    #: Name of the fused kernels in :mod:`mtcsnn.kernels`, ``None`` if none.
    kernel: ClassVar[str | None] = None

    def __init__(
        self,
        n_neurons: int,
        params: Any,
        *,
        train: Iterable[str] | str = (),
        batch_first: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        backend: str = "auto",
        checkpoint: int | None = None,
    ) -> None:
        super().__init__()
        from mtcsnn.kernels import check_backend
        from mtcsnn.kernels.fused import check_checkpoint

        self.backend = check_backend(backend)
        self.checkpoint = check_checkpoint(checkpoint)
        if isinstance(n_neurons, bool) or not isinstance(n_neurons, int):
            raise TypeError(f"n_neurons must be an int, got {n_neurons!r}")
        if n_neurons < 1:
            raise ValueError(f"n_neurons = {n_neurons} is out of range: must be >= 1")
        if not isinstance(params, self.Params):
            raise TypeError(
                f"params must be {self.Params.__name__}, got {type(params).__name__}"
            )
        self.n_neurons = n_neurons
        self.batch_first = batch_first
        self.trained = self._resolve_train(train)
        names = [f.name for f in dataclasses.fields(params)]
        self._static = {
            name: float(getattr(params, name)) for name in names if self.is_static(name)
        }
        for name in names:
            if name in self._static:
                continue
            value = getattr(params, name)
            tensor = self._per_neuron(name, value, device=device, dtype=dtype)
            if name in self.trained:
                setattr(self, name, nn.Parameter(tensor))
                constraint = self.constraint_for(name)
                if constraint is not None:
                    parametrize.register_parametrization(self, name, constraint)
            else:
                self.register_buffer(name, tensor)

    # -- construction helpers -------------------------------------------------

    def _resolve_train(self, train: Iterable[str] | str) -> tuple[str, ...]:
        if isinstance(train, str):
            names: Sequence[str] = (
                tuple(self.constraints) if train == "all" else (train,)
            )
        else:
            names = tuple(train)
        unknown = [n for n in names if n not in self.constraints]
        if unknown:
            raise ValueError(
                f"{type(self).__name__} cannot train {', '.join(unknown)}; "
                f"trainable: {', '.join(self.constraints)}"
            )
        return tuple(dict.fromkeys(names))

    def is_static(self, name: str) -> bool:
        """True if parameter ``name`` is kept as a Python number, not a tensor."""
        return name in self.static_fields

    def constraint_for(self, name: str) -> nn.Module | None:
        """The parametrisation that keeps trained parameter ``name`` valid."""
        factory = self.constraints[name]
        return None if factory is None else factory(self)

    def _per_neuron(
        self,
        name: str,
        value: Value,
        *,
        device: torch.device | str | None,
        dtype: torch.dtype | None,
    ) -> Tensor:
        dtype = dtype or torch.get_default_dtype()
        if isinstance(value, Tensor):
            tensor = value.detach().to(device=device, dtype=dtype).clone()
        else:
            tensor = torch.tensor(float(value), device=device, dtype=dtype)
        if tensor.dim() == 0:
            return tensor.expand(self.n_neurons).clone()
        if tensor.shape != (self.n_neurons,):
            raise ValueError(
                f"{type(self).__name__}: parameter {name} has shape "
                f"{tuple(tensor.shape)}, expected a scalar or ({self.n_neurons},)"
            )
        return tensor

    # -- parameters -----------------------------------------------------------

    @property
    def dt(self) -> float:
        """Integration step, in the unit of the time constants."""
        return self._static["dt"]

    def params(self) -> Any:
        """The current parameters as the dataclass the step function takes.

        Tensors are ``[N]``; trained ones carry gradients. The result is not
        re-validated: parametrisations keep trained values valid.
        """
        values = {}
        for field in dataclasses.fields(self.Params):
            name = field.name
            values[name] = (
                self._static[name] if name in self._static else getattr(self, name)
            )
        return unchecked(self.Params, **values)

    def extra_repr(self) -> str:
        trained = ", ".join(self.trained) or "none"
        return (
            f"n_neurons={self.n_neurons}, dt={self.dt:g}, "
            f"batch_first={self.batch_first}, trained=({trained}), "
            f"backend={self.backend}"
        )

    def apply_constraints(self) -> None:
        """Project trained parameters back into their valid ranges.

        Call after every ``optimizer.step()``. Parameters kept valid by their
        parametrisation need nothing, so this default does nothing; layers
        whose parameters are clamped after each step, as published for some
        models, override it.
        """

    # -- dynamics (subclass) --------------------------------------------------

    def initial_state(
        self,
        batch_size: int,
        *,
        device: torch.device | None = None,
        dtype: torch.dtype | None = None,
    ) -> Any:
        """A fresh state, each field ``[batch_size, N]``."""
        raise NotImplementedError

    def zeros(
        self,
        batch_size: int,
        *,
        device: torch.device | None = None,
        dtype: torch.dtype | None = None,
    ) -> Tensor:
        """Zeros ``[batch_size, N]``, by default in the parameters' device and dtype."""
        reference = next(self.buffers(), None)
        if reference is None:
            reference = next(self.parameters())
        return torch.zeros(
            batch_size,
            self.n_neurons,
            device=device or reference.device,
            dtype=dtype or reference.dtype,
        )

    @staticmethod
    def step(i_in: Tensor, state: Any, p: Any) -> tuple[Tensor, Any]:
        """One time step: ``[B, N]`` input current to ``[B, N]`` output."""
        raise NotImplementedError

    # -- running over time ----------------------------------------------------

    def _time_first(self, i_in: Tensor) -> Tensor:
        if i_in.dim() != 3 or i_in.shape[-1] != self.n_neurons:
            layout = "[B, T, N]" if self.batch_first else "[T, B, N]"
            raise ValueError(
                f"{type(self).__name__} expects input of shape {layout} with "
                f"N = {self.n_neurons}, got {tuple(i_in.shape)}"
            )
        return i_in.transpose(0, 1) if self.batch_first else i_in

    def _start(self, i_in: Tensor, state: Any | None) -> Any:
        if state is None:
            return self.initial_state(
                i_in.shape[1], device=i_in.device, dtype=i_in.dtype
            )
        if not isinstance(state, self.State):
            raise TypeError(
                f"state must be {self.State.__name__}, got {type(state).__name__}"
            )
        return state

    def scan(self, i_in: Tensor, state: Any, *, record: bool) -> tuple[Tensor, ...]:
        """Run the step function over time on a time-first ``[T, B, N]`` input.

        Returns the stacked output ``s`` and, if ``record``, every stacked state
        field, each ``[T, B, N]`` (values after each step). The backend chosen
        by :attr:`backend` runs it; the plain loop below is the reference.
        """
        p = self.params()
        if self.kernel is not None:
            from mtcsnn.kernels import resolve_backend, run_fused

            backend = resolve_backend(self.backend, i_in)
            if backend != "torch":
                out, fields = run_fused(
                    self.kernel,
                    backend,
                    i_in,
                    tuple(state),
                    p,
                    record=record,
                    checkpoint=self.checkpoint,
                )
                return (out, *fields)
        outputs: list[Tensor] = []
        states: list[Any] = []
        # unbind, not indexing: indexing in a recorded loop makes backward O(T^2).
        for i_t in i_in.unbind(0):
            s, state = self.step(i_t, state, p)
            outputs.append(s)
            if record:
                states.append(state)
        if not record:
            return (torch.stack(outputs),)
        fields = [torch.stack(list(f)) for f in zip(*states, strict=True)]
        return (torch.stack(outputs), *fields)

    def forward(self, i_in: Tensor, state: Any | None = None) -> Tensor:
        """Run the layer over a sequence and return its output.

        Parameters
        ----------
        i_in
            Input current, ``[T, B, N]`` (``[B, T, N]`` if ``batch_first``).
        state
            Initial state; a fresh one from :meth:`initial_state` if ``None``.

        Returns
        -------
        Tensor
            The output after each step, same shape as ``i_in``.
        """
        x = self._time_first(i_in)
        (s,) = self.scan(x, self._start(x, state), record=False)
        return s.transpose(0, 1) if self.batch_first else s

    def trace(self, i_in: Tensor, state: Any | None = None) -> Any:
        """Like :meth:`forward`, but return the output and every state trace.

        Returns
        -------
        Trace
            ``NamedTuple`` with ``s`` and one field per state variable, each
            the value after every step, same shape as ``i_in``.
        """
        x = self._time_first(i_in)
        fields = self.scan(x, self._start(x, state), record=True)
        if self.batch_first:
            fields = tuple(f.transpose(0, 1) for f in fields)
        return self.Trace(*fields)

    def final_state(self, trace: Any) -> Any:
        """The state after the last step of a :meth:`trace`, to continue from."""
        axis = 1 if self.batch_first else 0
        return self.State(
            *(getattr(trace, f).select(axis, -1) for f in self.State._fields)
        )


__all__ = [
    "Interpolation",
    "Interval",
    "NeuronLayer",
    "Positive",
    "Value",
    "as_tensor",
    "check",
    "check_number",
    "replace_fields",
    "unchecked",
]
