r"""Training speed of the neuron layers: plain PyTorch, fused kernels, snnTorch.

One measurement is forward plus backward through a whole sequence of *a
layer*: ``Linear(1, N)`` applied to an input ``x`` ``[T, B, 1]``, then the
neuron recurrence, loss = mean of the outputs. Every configuration is timed
in the same run, in interleaved rounds (so that load from other processes
spreads over all of them), and reported as the median over rounds:

* seconds per iteration and nanoseconds per neuron-step (``T B N``);
* peak memory: the growth of the peak resident memory of a fresh process
  that builds the layer and runs one iteration (a subprocess per
  configuration);
* ratios against the plain path of the same neuron type and against
  snnTorch's ``Leaky`` run in a Python loop;
* the memory-bandwidth bound of a fused forward plus backward: the bytes
  that one must move per neuron-step (read the input current, write the
  output and the ``S`` stored states; read them and the output gradient
  back, write the input gradient: ``(5 + 2 S) x`` the element size) over a
  copy bandwidth measured in the same run (``2 x`` the bytes of a large
  tensor copy per second).

Timings on a shared machine are noisy; only the ratios within one run mean
much.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from mtcsnn.neurons import NEURONS

log = logging.getLogger(__name__)

# Settings that keep every neuron type spiking on the input below.
_LAYER = {
    "mtc": ({"params": "mackey_glass", "train": "all"}, -1.0),
    "lif": ({"train": ("beta",)}, 0.2),
    "adlif": ({"train": "all"}, 5.0),
}
STATES = {"mtc": 3, "lif": 1, "adlif": 2}
"""State variables each fused kernel stores per neuron and step."""


@dataclass(frozen=True)
class Config:
    """One configuration to time."""

    name: str
    neuron: str
    backend: str
    checkpoint: int | None = None


@dataclass
class Result:
    """Timing and memory of one configuration."""

    name: str
    neuron: str
    backend: str
    checkpoint: int | None
    seconds: float
    ns_per_neuron_step: float
    peak_mb: float | None = None
    rounds: list[float] = field(default_factory=list)


def default_configs(steps: int, with_snntorch: bool = True) -> list[Config]:
    """Plain and fused paths of every neuron, low-memory MTC, snnTorch LIF."""
    chunk = max(1, round(steps**0.5))
    configs = []
    for neuron in ("mtc", "lif", "adlif"):
        configs.append(Config(f"{neuron} plain", neuron, "torch"))
        configs.append(Config(f"{neuron} fused", neuron, "auto"))
    configs.append(Config(f"mtc fused, checkpoint {chunk}", "mtc", "auto", chunk))
    if with_snntorch:
        configs.append(Config("snntorch Leaky loop", "snntorch", "torch"))
    return configs


def _snntorch_layer(n: int) -> nn.Module:
    import snntorch

    class Loop(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.leaky = snntorch.Leaky(beta=0.9, learn_beta=True)

        def forward(self, i_in: torch.Tensor) -> torch.Tensor:
            mem = self.leaky.init_leaky()
            spikes = []
            for i_t in i_in.unbind(0):
                spk, mem = self.leaky(i_t, mem)
                spikes.append(spk)
            return torch.stack(spikes)

    return Loop()


def build(config: Config, n: int, dtype: torch.dtype) -> tuple[nn.Module, nn.Module]:
    """The linear input projection and the neuron layer of ``config``."""
    if config.neuron == "snntorch":
        layer, bias = _snntorch_layer(n), 0.2
    else:
        kwargs, bias = _LAYER[config.neuron]
        layer = NEURONS[config.neuron](
            n,
            **kwargs,
            backend=config.backend,
            checkpoint=config.checkpoint,
        )
    linear = nn.Linear(1, n)
    with torch.no_grad():
        linear.bias.fill_(bias)
        linear.weight.fill_(0.5)
    return linear.to(dtype), layer.to(dtype)


def iteration(linear: nn.Module, layer: nn.Module, x: torch.Tensor) -> None:
    """One forward and backward pass; gradients are dropped."""
    layer(linear(x)).mean().backward()
    for p in (*linear.parameters(), *layer.parameters()):
        p.grad = None


def peak_resident_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux's ``VmHWM`` (the high-water mark of this address space, which starts
    afresh in a new process), else :func:`resource.getrusage`'s ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_child(config: Config, shape: tuple[int, int, int], dtype_name: str, queue):
    steps, batch, n = shape
    dtype = getattr(torch, dtype_name)
    linear, layer = build(config, n, dtype)
    x = torch.randn(steps, batch, 1, dtype=dtype)
    iteration(linear, layer, x[:2])  # load kernels, touch code pages
    before = peak_resident_mb()
    iteration(linear, layer, x)
    queue.put(peak_resident_mb() - before)


def peak_memory_mb(config: Config, shape: tuple[int, int, int], dtype) -> float:
    """Peak resident memory added by one iteration, in a fresh process (MiB)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    dtype_name = str(dtype).removeprefix("torch.")
    process = context.Process(
        target=_peak_child, args=(config, shape, dtype_name, queue)
    )
    process.start()
    value = queue.get(timeout=600)
    process.join()
    return float(value)


def copy_bandwidth(megabytes: int = 256, repeats: int = 5) -> float:
    """Bytes per second of a large tensor copy (read plus write), median."""
    n = megabytes * 2**20 // 4
    src = torch.ones(n)
    dst = torch.empty(n)
    dst.copy_(src)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        dst.copy_(src)
        times.append(time.perf_counter() - start)
    return 2 * n * 4 / statistics.median(times)


def run(
    batch: int = 128,
    neurons: int = 64,
    steps: int = 2000,
    *,
    rounds: int = 5,
    dtype: torch.dtype = torch.float32,
    configs: list[Config] | None = None,
    memory: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Time every configuration; return results, ratios and the bound.

    Parameters
    ----------
    batch, neurons, steps
        ``B``, ``N`` and ``T``.
    rounds
        Timed iterations per configuration (after one warm-up each),
        interleaved across configurations.
    dtype
        Floating type of the layers.
    configs
        What to time (default: :func:`default_configs`).
    memory
        Also measure each configuration's peak memory in a subprocess.
    progress
        Called with a short message before each measurement.
    """
    if configs is None:
        try:
            import snntorch  # noqa: F401

            with_snn = True
        except ImportError:
            log.warning("snntorch is not installed: no snnTorch comparison")
            with_snn = False
        configs = default_configs(steps, with_snn)
    torch.manual_seed(0)
    x = torch.randn(steps, batch, 1, dtype=dtype)
    layers = {c.name: build(c, neurons, dtype) for c in configs}
    for c in configs:
        if progress:
            progress(f"warm-up {c.name}")
        iteration(*layers[c.name], x)
    times: dict[str, list[float]] = {c.name: [] for c in configs}
    for r in range(rounds):
        for c in configs:
            if progress:
                progress(f"round {r + 1}/{rounds}: {c.name}")
            start = time.perf_counter()
            iteration(*layers[c.name], x)
            times[c.name].append(time.perf_counter() - start)
    del layers
    neuron_steps = steps * batch * neurons
    results = []
    for c in configs:
        seconds = statistics.median(times[c.name])
        result = Result(
            c.name,
            c.neuron,
            c.backend,
            c.checkpoint,
            seconds,
            seconds / neuron_steps * 1e9,
            rounds=times[c.name],
        )
        if memory:
            if progress:
                progress(f"peak memory: {c.name}")
            result.peak_mb = peak_memory_mb(c, (steps, batch, neurons), dtype)
        results.append(result)
    by_name = {r.name: r for r in results}

    def ratio(a: str, b: str) -> float | None:
        if a in by_name and b in by_name:
            return by_name[b].seconds / by_name[a].seconds
        return None

    bandwidth = copy_bandwidth()
    size = torch.finfo(dtype).bits // 8
    bound_ns = {
        neuron: (5 + 2 * s) * size / bandwidth * 1e9 for neuron, s in STATES.items()
    }
    ratios = {
        f"{n} fused vs {n} plain (speed-up)": ratio(f"{n} fused", f"{n} plain")
        for n in ("mtc", "lif", "adlif")
    }
    ratios["mtc fused vs snntorch Leaky loop (speed-up)"] = ratio(
        "mtc fused", "snntorch Leaky loop"
    )
    if "mtc fused" in by_name:
        ratios["mtc fused / bandwidth bound"] = (
            by_name["mtc fused"].ns_per_neuron_step / bound_ns["mtc"]
        )
    return {
        "shape": {"batch": batch, "neurons": neurons, "steps": steps},
        "dtype": str(dtype).removeprefix("torch."),
        "threads": torch.get_num_threads(),
        "rounds": rounds,
        "results": [asdict(r) for r in results],
        "ratios": ratios,
        "copy_bandwidth_gb_s": bandwidth / 1e9,
        "bandwidth_bound_ns_per_neuron_step": bound_ns,
    }


def table(report: dict[str, Any]) -> str:
    """The report as Markdown: one row per configuration, then the ratios."""
    lines = [
        "| configuration | s / iteration | ns / neuron-step | peak memory (MiB) |",
        "|---|---|---|---|",
    ]
    for r in report["results"]:
        peak = "" if r["peak_mb"] is None else f"{r['peak_mb']:.0f}"
        lines.append(
            f"| {r['name']} | {r['seconds']:.3f} | {r['ns_per_neuron_step']:.1f} "
            f"| {peak} |"
        )
    lines.append("")
    lines.append("| ratio | value |")
    lines.append("|---|---|")
    for name, value in report["ratios"].items():
        lines.append(f"| {name} | {'n/a' if value is None else f'{value:.1f}'} |")
    bound = report["bandwidth_bound_ns_per_neuron_step"]["mtc"]
    lines.append("")
    lines.append(
        f"Copy bandwidth {report['copy_bandwidth_gb_s']:.1f} GB/s; bandwidth bound "
        f"of a fused MTC forward + backward {bound:.2f} ns / neuron-step "
        f"({report['threads']} threads, {report['dtype']})."
    )
    return "\n".join(lines) + "\n"


def write_json(path, report: dict[str, Any]) -> None:
    """Write the report as JSON, atomically."""
    from mtcsnn.io import atomic_write_text

    atomic_write_text(path, json.dumps(report, indent=2) + "\n")


__all__ = ["Config", "Result", "build", "copy_bandwidth", "run", "table"]
