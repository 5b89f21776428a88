"""One feed-forward network, three neuron types chosen by name."""

import math

import pytest
import torch
from torch import nn

from mtcsnn import NEURONS, make_neuron

STEPS, BATCH, N_IN, N_HIDDEN = 60, 3, 4, 8


class Stack(nn.Module):
    """Linear -> neurons -> Linear -> neurons, on ``[T, B, N]`` sequences."""

    def __init__(self, name: str, **kwargs) -> None:
        super().__init__()
        self.w1 = nn.Linear(N_IN, N_HIDDEN)
        self.neurons1 = make_neuron(name, N_HIDDEN, **kwargs)
        self.w2 = nn.Linear(N_HIDDEN, N_HIDDEN)
        self.neurons2 = make_neuron(name, N_HIDDEN, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.neurons2(self.w2(self.neurons1(self.w1(x))))


def slow_input() -> torch.Tensor:
    """Sines of periods 20 to 35 steps plus noise, ``[T, B, N_IN]``.

    Slow enough for SE-AdLIF, whose membrane averages over 5 to 25 steps.
    """
    t = torch.arange(STEPS, dtype=torch.float32).reshape(STEPS, 1, 1)
    periods = 20.0 + 5.0 * torch.arange(N_IN)
    return 4.0 * torch.sin(2 * math.pi * t / periods) + 0.5 * torch.randn(
        STEPS, BATCH, N_IN
    )


@pytest.mark.parametrize("name", ["mtc", "lif", "adlif"])
def test_same_stack_with_each_neuron_type(name):
    net = Stack(name, train="all")
    x = slow_input()
    out = net(x)
    hidden = net.neurons1(net.w1(x))
    assert out.shape == hidden.shape == (STEPS, BATCH, N_HIDDEN)
    assert ((out >= 0) & (out <= 1)).all()
    if name != "mtc":
        assert set(hidden.unique().tolist()) == {0.0, 1.0}
    assert 0.01 < hidden.mean() < 0.9

    # Gradients reach the first projection and the neuron parameters.
    out.sum().backward()
    assert net.w1.weight.grad.abs().sum() > 0
    neuron_grads = [p.grad for p in net.neurons1.parameters()]
    assert neuron_grads and all(torch.isfinite(g).all() for g in neuron_grads)

    # The same network built batch-first computes the same thing.
    twin = Stack(name, train="all", batch_first=True)
    twin.load_state_dict(net.state_dict())
    assert torch.equal(twin(x.transpose(0, 1)), out.transpose(0, 1))

    # Every layer takes the constraint projection after an optimiser step.
    optimiser = torch.optim.SGD(net.parameters(), lr=0.1)
    optimiser.step()
    for layer in (net.neurons1, net.neurons2):
        layer.apply_constraints()
    assert torch.isfinite(net(x)).all()


def test_registry_and_unknown_name():
    assert set(NEURONS) == {"mtc", "lif", "adlif"}
    with pytest.raises(ValueError, match="unknown neuron type 'alif'; known: mtc, lif"):
        make_neuron("alif", 4)
