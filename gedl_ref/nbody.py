"""The charged-particle N-body system, simulated on the spot.

The benchmark of Kipf et al. (2018, "Neural relational inference") in the 3D,
box-free form of Satorras et al. (2021, "E(n) equivariant graph neural
networks", §5.1): ``N`` unit-mass particles with charges ``q_i ∈ {−1, +1}``
(each drawn with probability 1/2) move under the pairwise force

    F_i = s Σ_{j ≠ i} q_i q_j (x_i − x_j) / ‖x_i − x_j‖³,

so like charges repel and unlike charges attract (``s`` is the interaction
strength, 1 by default). Every component of ``F_i`` is clipped to
``[−0.1/dt, 0.1/dt]``, as in the original simulator, which keeps close
encounters finite. Initial positions are ``N(0, loc_std²)`` per coordinate;
initial velocities are Gaussian directions scaled to norm ``vel_norm``.

Integration is the semi-implicit (symplectic) Euler scheme of the original
simulator with ``dt = 0.001``: one velocity kick from the initial forces,
then per step a drift ``x ← x + dt v`` followed by a kick
``v ← v + dt F(x)``. The state recorded at step ``t`` is ``x`` after the
``t``-th drift and ``v`` before the following kick.

The task: from positions, velocities and charges at step ``start_step``,
predict the positions ``horizon`` steps later. The EGNN code reads frames 30
and 40 of trajectories saved every 100 steps whose frame ``k`` holds step
``100 (k + 1)`` (the saved initial state is overwritten by the first sample),
so the defaults are ``start_step = 3100`` and ``horizon = 1000``. The EGNN
paper uses 3000 training, 2000 validation and 2000 test trajectories.

Warning:
    The component-wise clipping is not rotation equivariant: a rotated
    initial state gives the rotated trajectory only while no force component
    reaches the clip (particles closer than about 0.1). The learning task
    inherits this from the original benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from gedl_ref.graph import fully_connected_graph

__all__ = [
    "NBodyData",
    "NBodyGraph",
    "charged_forces",
    "make_nbody_dataset",
    "nbody_graph",
    "simulate_charged",
    "total_energy",
]

#: The integration step of the original simulator.
DT = 0.001


@dataclass(frozen=True)
class NBodyData:
    """Input states and target positions of ``B`` simulated systems.

    Attributes:
        loc: positions at the input step, ``[B, N, 3]``.
        vel: velocities at the input step, ``[B, N, 3]``.
        charges: ``±1`` per particle, ``[B, N, 1]``.
        target: positions ``horizon`` steps later, ``[B, N, 3]``.
    """

    loc: Tensor
    vel: Tensor
    charges: Tensor
    target: Tensor

    def __len__(self) -> int:
        return len(self.loc)

    def __getitem__(self, index: Tensor | slice) -> NBodyData:
        return NBodyData(
            self.loc[index], self.vel[index], self.charges[index], self.target[index]
        )


@dataclass(frozen=True)
class NBodyGraph:
    """A batch of systems as one graph of ``B·N`` nodes, fully connected per
    system, with the EGNN paper's features.

    Attributes:
        x: positions, ``[B·N, 3]``.
        v: velocities, ``[B·N, 3]``.
        h: invariant node features ``‖v_i‖``, ``[B·N, 1]``.
        edge_index: all ordered pairs within a system, ``[2, B·N(N−1)]``.
        edge_attr: invariant edge features ``[q_i q_j, ‖x_i − x_j‖²]``,
            ``[E, 2]``.
        target: positions to predict, ``[B·N, 3]``.
        batch: system index per node, ``[B·N]``.
    """

    x: Tensor
    v: Tensor
    h: Tensor
    edge_index: Tensor
    edge_attr: Tensor
    target: Tensor
    batch: Tensor


def charged_forces(
    loc: Tensor, charges: Tensor, strength: float = 1.0, dt: float = DT
) -> Tensor:
    """Clipped Coulomb-like forces ``s Σ_j q_i q_j (x_i − x_j)/‖x_i − x_j‖³``.

    All pairs of one system are formed (``N`` is small); each component is
    clipped to ``±0.1/dt``.

    Shapes:
        loc: ``[B, N, d]``, charges: ``[B, N, 1]``, output: ``[B, N, d]``
    """
    return _forces(loc, _coupling(charges, strength), 0.1 / dt)


def _coupling(charges: Tensor, strength: float) -> Tensor:
    """``s q_i q_j`` with a zero diagonal (no self-force), ``[B, N, N]``."""
    n = charges.shape[1]
    off = 1 - torch.eye(n, dtype=charges.dtype, device=charges.device)
    return strength * charges * charges.transpose(1, 2) * off


def _forces(loc: Tensor, coupling: Tensor, limit: float) -> Tensor:
    """Forces from a precomputed coupling ``[B, N, N]``, clipped to ±limit."""
    diff = loc[:, :, None, :] - loc[:, None, :, :]  # [B, N, N, d] x_i − x_j
    dist2 = (diff * diff).sum(-1)  # [B, N, N]
    dist2.diagonal(dim1=1, dim2=2).fill_(1.0)  # the coupling is 0 there
    size = coupling * dist2.pow_(-1.5)  # [B, N, N]
    force = torch.einsum("bij,bijd->bid", size, diff)  # [B, N, d]
    return force.clamp_(-limit, limit)


def total_energy(
    loc: Tensor, vel: Tensor, charges: Tensor, strength: float = 1.0
) -> Tensor:
    """Kinetic plus potential energy ``Σ ½‖v_i‖² + s Σ_{i<j} q_i q_j/‖x_ij‖``.

    Shapes:
        loc, vel: ``[B, N, d]``, charges: ``[B, N, 1]``, output: ``[B]``
    """
    n = loc.shape[1]
    kinetic = 0.5 * (vel**2).sum((-1, -2))
    dist = torch.cdist(loc, loc) + torch.eye(n, dtype=loc.dtype, device=loc.device)
    qq = charges * charges.transpose(1, 2)  # [B, N, N]
    upper = torch.triu(torch.ones(n, n, dtype=torch.bool, device=loc.device), 1)
    potential = strength * (qq / dist)[:, upper].sum(-1)
    return kinetic + potential


def simulate_charged(
    loc: Tensor,
    vel: Tensor,
    charges: Tensor,
    steps: int,
    record: list[int] | None = None,
    strength: float = 1.0,
    dt: float = DT,
) -> tuple[Tensor, Tensor]:
    """Integrate the system for ``steps`` steps from the given initial state.

    Semi-implicit Euler as in the module docstring; all systems of the
    batch advance together.

    Args:
        loc, vel: initial positions and velocities.
        charges: ``±1`` per particle.
        steps: number of integration steps.
        record: the steps ``t`` (``0 ≤ t ≤ steps``) whose states are returned;
            by default only the last.

    Returns:
        positions and velocities at the recorded steps, ``[T, B, N, d]``.

    Shapes:
        loc, vel: ``[B, N, d]``, charges: ``[B, N, 1]``
    """
    record = [steps] if record is None else sorted(record)
    if record and not 0 <= record[0] <= record[-1] <= steps:
        raise ValueError(f"record must lie in [0, {steps}], got {record}")
    wanted = set(record)
    locs, vels = [], []
    coupling, limit = _coupling(charges, strength), 0.1 / dt
    x = loc.clone()
    v = vel + dt * _forces(x, coupling, limit)
    if 0 in wanted:
        locs.append(loc.clone())
        vels.append(vel.clone())
    for t in range(1, steps + 1):
        x = x + dt * v
        if t in wanted:
            locs.append(x)
            vels.append(v)
        v = v + dt * _forces(x, coupling, limit)
    return torch.stack(locs), torch.stack(vels)


def make_nbody_dataset(
    num_systems: int,
    seed: int,
    num_particles: int = 5,
    start_step: int = 3100,
    horizon: int = 1000,
    loc_std: float = 1.0,
    vel_norm: float = 0.5,
    dtype: torch.dtype = torch.float32,
) -> NBodyData:
    """Simulate ``num_systems`` random systems with a seeded generator.

    Initial states are drawn from ``torch.Generator().manual_seed(seed)``
    (charges, then positions, then velocities), integrated in float64 and
    returned in ``dtype``; the same arguments always give the same data.

    Shapes:
        fields of the output: ``[num_systems, num_particles, 3]`` (charges
        ``[..., 1]``)

    Example:
        >>> data = make_nbody_dataset(2, seed=0, start_step=10, horizon=10)
        >>> tuple(data.loc.shape), tuple(data.charges.shape)
        ((2, 5, 3), (2, 5, 1))
    """
    if num_systems < 1 or num_particles < 2:
        raise ValueError("need num_systems >= 1 and num_particles >= 2")
    gen = torch.Generator().manual_seed(seed)
    b, n, f64 = num_systems, num_particles, torch.float64
    charges = torch.randint(0, 2, (b, n, 1), generator=gen).to(f64) * 2 - 1
    loc = torch.randn(b, n, 3, generator=gen, dtype=f64) * loc_std
    vel = torch.randn(b, n, 3, generator=gen, dtype=f64)
    vel = vel * (vel_norm / vel.norm(dim=-1, keepdim=True))

    steps = start_step + horizon
    locs, vels = simulate_charged(loc, vel, charges, steps, [start_step, steps])
    return NBodyData(
        loc=locs[0].to(dtype),
        vel=vels[0].to(dtype),
        charges=charges.to(dtype),
        target=locs[1].to(dtype),
    )


def nbody_graph(data: NBodyData) -> NBodyGraph:
    """Flatten a batch of systems into one fully connected graph per system.

    Node features ``h_i = ‖v_i‖`` and edge features ``[q_i q_j, ‖x_i −
    x_j‖²]`` follow the EGNN paper's N-body setup; both are invariant under
    E(3), the positions and velocities are equivariant.
    """
    b, n, _ = data.loc.shape
    device = data.loc.device
    batch = torch.arange(b, device=device).repeat_interleave(n)  # [B·N]
    edge_index = fully_connected_graph(batch)  # [2, E]
    x = data.loc.reshape(b * n, 3)  # [B·N, 3]
    v = data.vel.reshape(b * n, 3)
    q = data.charges.reshape(b * n, 1)
    j, i = edge_index
    edge_attr = torch.cat(
        [q[i] * q[j], ((x[i] - x[j]) ** 2).sum(-1, keepdim=True)], dim=-1
    )  # [E, 2]
    return NBodyGraph(
        x=x,
        v=v,
        h=v.norm(dim=-1, keepdim=True),
        edge_index=edge_index,
        edge_attr=edge_attr,
        target=data.target.reshape(b * n, 3),
        batch=batch,
    )
