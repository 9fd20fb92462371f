"""Tests of gedl_ref.nbody: the forces against a double loop, conservation
laws, symmetries of the simulation, and the seeded dataset."""

from __future__ import annotations

import pytest
import torch

from gedl_ref.nbody import (
    DT,
    charged_forces,
    make_nbody_dataset,
    nbody_graph,
    simulate_charged,
    total_energy,
)

F64 = torch.float64


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


def random_state(gen, b=16, n=5, spread=1.0):
    charges = torch.randint(0, 2, (b, n, 1), generator=gen).to(F64) * 2 - 1
    loc = torch.randn(b, n, 3, generator=gen, dtype=F64) * spread
    vel = torch.randn(b, n, 3, generator=gen, dtype=F64)
    return loc, 0.5 * vel / vel.norm(dim=-1, keepdim=True), charges


def haar_orthogonal(gen) -> torch.Tensor:
    """A Haar-random element of O(3) (QR with the sign fix of Mezzadri)."""
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=gen, dtype=F64))
    return q * torch.sign(torch.diagonal(r))


def test_forces_equal_double_loop_with_clipping(gen):
    loc, _, charges = random_state(gen, b=4)
    loc[0, 1] = loc[0, 0] + 0.01  # a close pair: its force is clipped
    got = charged_forces(loc, charges)
    limit = 0.1 / DT
    for b in range(4):
        for i in range(5):
            force = torch.zeros(3, dtype=F64)
            for j in range(5):
                if j != i:
                    d = loc[b, i] - loc[b, j]
                    force += charges[b, i, 0] * charges[b, j, 0] * d / d.norm() ** 3
            want = force.clamp(-limit, limit)
            # One sum of 4 float64 terms in another order.
            torch.testing.assert_close(got[b, i], want, rtol=1e-12, atol=1e-12)
    assert got[0, 0].abs().max() == limit


def test_like_charges_repel(gen):
    loc = torch.tensor([[[0.0, 0, 0], [1.0, 0, 0]]], dtype=F64)
    for q, sign in ((1.0, 1.0), (-1.0, -1.0)):
        charges = torch.tensor([[[1.0], [q]]], dtype=F64)
        force = charged_forces(loc, charges)
        # Particle 0 at the origin is pushed to −x by a like charge at +x.
        assert force[0, 0, 0] == -sign and force[0, 1, 0] == sign


def test_total_force_vanishes_without_clipping(gen):
    # Newton's third law; well-separated particles keep all forces unclipped.
    loc, _, charges = random_state(gen, spread=3.0)
    force = charged_forces(loc, charges)
    assert force.abs().max() < 0.1 / DT
    torch.testing.assert_close(
        force.sum(1), torch.zeros(16, 3, dtype=F64), rtol=0, atol=1e-12
    )


def test_energy_drift_is_first_order_in_dt(gen):
    # The recorded v lags x by half a step, so the energy error is O(dt):
    # a step 4 times smaller must shrink the typical drift at least 2 times.
    loc, vel, charges = random_state(gen, b=32)

    def drift(dt: float) -> float:
        steps = round(0.1 / dt)
        locs, vels = simulate_charged(loc, vel, charges, steps, [0, steps], dt=dt)
        energy = [total_energy(x, v, charges) for x, v in zip(locs, vels, strict=True)]
        return float(((energy[1] - energy[0]) / energy[0]).abs().median())

    coarse, fine = drift(1e-3), drift(2.5e-4)
    assert fine < coarse / 2 and coarse < 1e-2, (coarse, fine)


@pytest.mark.parametrize("reflect", [False, True], ids=["rotation", "reflection"])
def test_simulation_is_e3_equivariant_without_clipping(gen, reflect):
    loc, vel, charges = random_state(gen, spread=3.0)
    q = haar_orthogonal(gen)
    if (torch.linalg.det(q) > 0) == reflect:
        q = -q
    shift = torch.randn(3, generator=gen, dtype=F64)
    locs, vels = simulate_charged(loc, vel, charges, 200, [100, 200])
    locs2, vels2 = simulate_charged(
        loc @ q.T + shift, vel @ q.T, charges, 200, [100, 200]
    )
    # 200 float64 steps: rounding grows to ~1e-13, far below the tolerance.
    torch.testing.assert_close(locs2, locs @ q.T + shift, rtol=0, atol=1e-10)
    torch.testing.assert_close(vels2, vels @ q.T, rtol=0, atol=1e-10)


def test_simulation_is_permutation_equivariant(gen):
    loc, vel, charges = random_state(gen)
    perm = torch.randperm(5, generator=gen)
    locs, vels = simulate_charged(loc, vel, charges, 100, [100])
    locs2, vels2 = simulate_charged(
        loc[:, perm], vel[:, perm], charges[:, perm], 100, [100]
    )
    # The force sums run over the particles in another order.
    torch.testing.assert_close(locs2, locs[:, :, perm], rtol=0, atol=1e-10)
    torch.testing.assert_close(vels2, vels[:, :, perm], rtol=0, atol=1e-10)


def test_dataset_is_seeded_and_continues_the_simulation():
    kwargs = {"start_step": 50, "horizon": 30, "dtype": F64}
    data = make_nbody_dataset(8, seed=7, **kwargs)
    again = make_nbody_dataset(8, seed=7, **kwargs)
    for name in ("loc", "vel", "charges", "target"):
        assert torch.equal(getattr(data, name), getattr(again, name)), name
    assert set(data.charges.unique().tolist()) <= {-1.0, 1.0}
    # The recorded state is a restart point: simulating from it gives the
    # target bit for bit (the same operations in the same order).
    (target,), _ = simulate_charged(data.loc, data.vel, data.charges, 30)
    assert torch.equal(target, data.target)


def test_dataset_initial_velocities_have_the_set_norm():
    data = make_nbody_dataset(8, seed=0, start_step=0, horizon=1, dtype=F64)
    torch.testing.assert_close(
        data.vel.norm(dim=-1), torch.full((8, 5), 0.5, dtype=F64), rtol=1e-12, atol=0
    )
    assert data.loc.dtype == F64 and data.loc.shape == (8, 5, 3)


def test_nbody_graph_features(gen):
    data = make_nbody_dataset(3, seed=0, start_step=10, horizon=10, dtype=F64)
    g = nbody_graph(data)
    assert g.edge_index.shape == (2, 3 * 5 * 4)
    j, i = g.edge_index
    assert torch.equal(g.batch[i], g.batch[j]) and not (i == j).any()
    q = data.charges.reshape(15)
    assert torch.equal(g.edge_attr[:, 0], q[i] * q[j])
    dist2 = ((g.x[i] - g.x[j]) ** 2).sum(-1)
    assert torch.equal(g.edge_attr[:, 1], dist2)
    assert torch.equal(g.h[:, 0], g.v.norm(dim=-1))
    assert torch.equal(g.target, data.target.reshape(15, 3))


def test_record_outside_the_run_is_refused(gen):
    loc, vel, charges = random_state(gen, b=1)
    with pytest.raises(ValueError, match="record"):
        simulate_charged(loc, vel, charges, 10, [11])
