"""Steerable message passing on point clouds (tensor-field / NequIP style).

Node features are irreps of O(3) (:mod:`gedl_ref.so3`), for example
``"16x0e + 8x1o + 4x2e"``. On the edge ``(j, i)`` from source ``j`` to target
``i`` (see :mod:`gedl_ref.graph`) with ``x_ij = x_i − x_j`` one layer computes

    m_ij = TP_{w(‖x_ij‖)}(h_j, Y(x_ij / ‖x_ij‖))          (message)
    h_i' = Gate(Lin_1(Σ_j m_ij / sqrt(k)) + Lin_2(h_i))   (update)
    h_i' ← h_i + h_i'                                     (residual, when the
                                                           irreps agree)

* ``Y`` are the real spherical harmonics of degrees ``0..lmax`` of the edge
  direction ("component" normalisation). They are the only place where the
  direction enters, and ``Y(R u) = D(R) Y(u)``: the message is a tensor
  product of two steerable quantities, hence steerable. Unit directions make
  the angular part independent of the length, which enters only through
  ``w``.
* ``TP`` is the depthwise (``"uvu"``) Clebsch–Gordan tensor product of
  :mod:`gedl_ref.tensor_product` with one weight per path and channel, given
  per edge by a radial network ``w(r) = MLP(Gaussian basis of r)``: a linear
  layer whose weights are conditioned on the edge length, and whose output
  type is fixed by the Clebsch–Gordan selection rules.
* ``k`` is the average number of neighbours (a constant set at
  construction), ``Lin_1`` and ``Lin_2`` mix channels of equal irrep.
* ``Gate``: scalars go through SiLU (even) or tanh (odd); every non-scalar
  channel is multiplied by the sigmoid of its own extra scalar ("gate"),
  which keeps equivariance because a scalar times a ``D(R)``-vector is a
  ``D(R)``-vector.

For any orthogonal ``Q``, translation ``t`` and node permutation:
``layer(h·D(Q), Q x + t) = layer(h, x)·D(Q)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gedl_ref.graph import scatter
from gedl_ref.so3 import Irrep, Irreps, spherical_harmonics
from gedl_ref.tensor_product import FullyConnectedTensorProduct, TensorProduct

__all__ = [
    "Gate",
    "ScalarVectorLayer",
    "SteerableEnergyModel",
    "SteerableMessagePassing",
]


def _linear(irreps_in: Irreps, irreps_out: Irreps) -> FullyConnectedTensorProduct:
    """An equivariant linear map: a fully connected product with the scalar 1."""
    return FullyConnectedTensorProduct(irreps_in, "0e", irreps_out)


def _apply_linear(linear: FullyConnectedTensorProduct, h: Tensor) -> Tensor:
    return linear(h, h.new_ones(*h.shape[:-1], 1))


class Gate(nn.Module):
    """Gated nonlinearity on ``scalars + gates + gated`` irreps.

    ``irreps_out`` is split into scalars (``l = 0``) and gated blocks
    (``l > 0``). The input holds, in this order, the scalars, one ``0e`` gate
    per gated channel, and the gated blocks:

        out = [act(scalars), σ(gates) · gated]

    with ``act`` SiLU on ``0e`` and tanh on ``0o`` (odd, so parity is kept).

    Shapes:
        input: ``[..., irreps_in.dim]``, output: ``[..., irreps_out.dim]``
    """

    def __init__(self, irreps_out: Irreps | str) -> None:
        super().__init__()
        irreps_out = Irreps(irreps_out)
        self.irreps_out = irreps_out
        self.scalars = Irreps([b for b in irreps_out if b.ir.l == 0])
        self.gated = Irreps([b for b in irreps_out if b.ir.l > 0])
        if [b for b in irreps_out if b.ir.l == 0] + list(self.gated) != list(
            irreps_out
        ):
            raise ValueError(
                f"irreps_out must list its scalars first, got {irreps_out}; "
                "write e.g. '16x0e + 8x1o + 4x2e'"
            )
        self.num_gates = self.gated.num_irreps
        self.irreps_in = self.scalars + Irreps([(self.num_gates, "0e")])
        self.irreps_in = self.irreps_in + self.gated

    def forward(self, x: Tensor) -> Tensor:
        n_s = self.scalars.dim
        scalars, gates = x[..., :n_s], x[..., n_s : n_s + self.num_gates]
        gated = x[..., n_s + self.num_gates :]
        out = []
        for block, s in zip(self.scalars, self.scalars.slices(), strict=True):
            act = F.silu if block.ir.p == 1 else torch.tanh
            out.append(act(scalars[..., s]))
        gates = torch.sigmoid(gates)
        start = 0
        for block, s in zip(self.gated, self.gated.slices(), strict=True):
            g = gates[..., start : start + block.mul, None]  # [..., mul, 1]
            v = gated[..., s].unflatten(-1, (block.mul, block.ir.dim))  # [.., mul, M]
            out.append((g * v).flatten(-2))
            start += block.mul
        return torch.cat(out, dim=-1)


class SteerableMessagePassing(nn.Module):
    """One steerable message-passing layer (equations in the module docstring).

    Args:
        irreps_in: irreps of the input node features.
        irreps_out: irreps of the output node features, scalars first.
        lmax: highest degree of the spherical harmonics of edge directions.
        num_basis: number of Gaussians on ``[0, max_radius]`` for the radial
            network.
        max_radius: the range of edge lengths the radial basis covers.
        radial_hidden: width of the radial network.
        avg_num_neighbors: the ``k`` that scales the sum of messages.
        residual: add the input when ``irreps_in == irreps_out``.

    Shapes:
        h: ``[N, irreps_in.dim]``, x: ``[N, 3]``, edge_index: ``[2, E]``,
        output: ``[N, irreps_out.dim]``
    """

    def __init__(
        self,
        irreps_in: Irreps | str,
        irreps_out: Irreps | str,
        lmax: int = 2,
        num_basis: int = 8,
        max_radius: float = 3.0,
        radial_hidden: int = 32,
        avg_num_neighbors: float = 1.0,
        residual: bool = True,
    ) -> None:
        super().__init__()
        self.irreps_in, self.irreps_out = Irreps(irreps_in), Irreps(irreps_out)
        self.irreps_sh = Irreps([(1, Irrep(l, (-1) ** l)) for l in range(lmax + 1)])
        self.lmax, self.max_radius = lmax, max_radius
        self.avg_num_neighbors = avg_num_neighbors
        self.residual = residual and self.irreps_in == self.irreps_out
        self.gate = Gate(self.irreps_out)
        wanted = {b.ir for b in self.gate.irreps_in}

        # Depthwise paths h_j ⊗ Y -> every irrep the gate's input uses.
        mid, instructions = [], []
        for a, (mul, ir1) in enumerate(self.irreps_in):
            for b, (_, ir2) in enumerate(self.irreps_sh):
                for ir3 in ir1 * ir2:
                    if ir3 in wanted:
                        instructions.append((a, b, len(mid), "uvu", True))
                        mid.append((mul, ir3))
        self.irreps_mid = Irreps(mid)
        self.tp = TensorProduct(
            self.irreps_in,
            self.irreps_sh,
            self.irreps_mid,
            instructions,
            shared_weights=False,
            internal_weights=False,
        )
        self.register_buffer(
            "centers", torch.linspace(0.0, max_radius, num_basis), persistent=False
        )
        self.width = max_radius / max(num_basis - 1, 1)
        self.radial = nn.Sequential(
            nn.Linear(num_basis, radial_hidden),
            nn.SiLU(),
            nn.Linear(radial_hidden, self.tp.weight_numel),
        )
        self.linear = _linear(self.irreps_mid, self.gate.irreps_in)
        self.self_connection = _linear(self.irreps_in, self.gate.irreps_in)

    def radial_basis(self, r: Tensor) -> Tensor:
        """Gaussians ``exp(−((r − μ_k)/σ)²)``, ``μ_k`` evenly on ``[0, r_max]``.

        Shapes:
            r: ``[E, 1]``, output: ``[E, num_basis]``
        """
        return torch.exp(-(((r - self.centers.to(r.dtype)) / self.width) ** 2))

    def forward(self, h: Tensor, x: Tensor, edge_index: Tensor) -> Tensor:
        if h.shape[-1] != self.irreps_in.dim or x.shape[-1] != 3:
            raise ValueError(
                f"h must be [N, {self.irreps_in.dim}] ({self.irreps_in}) and x "
                f"[N, 3], got {tuple(h.shape)} and {tuple(x.shape)}"
            )
        j, i = edge_index  # source, target
        x_ij = x[i] - x[j]  # [E, 3]
        r = x_ij.norm(dim=-1, keepdim=True)  # [E, 1]
        Y = spherical_harmonics(
            self.irreps_sh, x_ij, normalize=True, normalization="component"
        )  # [E, Σ M]
        w = self.radial(self.radial_basis(r))  # [E, weight_numel]
        m = self.tp(h[j], Y, w)  # [E, irreps_mid.dim]
        m_i = scatter(m, i, len(h)) / math.sqrt(self.avg_num_neighbors)
        out = _apply_linear(self.linear, m_i) + _apply_linear(self.self_connection, h)
        out = self.gate(out)  # [N, irreps_out.dim]
        return h + out if self.residual else out


class SteerableEnergyModel(nn.Module):
    """A small steerable network: an invariant energy and equivariant vectors.

    Node scalars ``[N, in_dim]`` (e.g. one-hot types) are embedded as
    ``hidden`` scalars, passed through ``num_layers`` steerable layers, and
    read out as

        E_g = Σ_{i in graph g} Lin_E(h_i)       (``0e``: invariant)
        f_i = Lin_f(h_i)                        (``1o``: equivariant vector)

    Shapes:
        h: ``[N, in_dim]``, x: ``[N, 3]``, edge_index: ``[2, E]``,
        batch: ``[N]``; outputs: energy ``[B]``, vectors ``[N, 3]``

    Example:
        >>> from gedl_ref.graph import radius_graph
        >>> model = SteerableEnergyModel(2, "8x0e + 4x1o + 2x2e", num_layers=2)
        >>> x = torch.randn(6, 3)
        >>> energy, f = model(torch.ones(6, 2), x, radius_graph(x, 2.0))
        >>> tuple(energy.shape), tuple(f.shape)
        ((1,), (6, 3))
    """

    def __init__(
        self,
        in_dim: int,
        hidden_irreps: Irreps | str = "16x0e + 8x1o + 4x2e",
        num_layers: int = 2,
        **layer_options: object,
    ) -> None:
        super().__init__()
        hidden = Irreps(hidden_irreps)
        scalars = sum(b.mul for b in hidden if b.ir == Irrep(0, 1))
        if scalars == 0:
            raise ValueError(f"hidden_irreps needs scalars 0e, got {hidden}")
        self.embedding = nn.Linear(in_dim, scalars)
        irreps = Irreps([(scalars, "0e")])
        layers = []
        for _ in range(num_layers):
            layers.append(SteerableMessagePassing(irreps, hidden, **layer_options))
            irreps = hidden
        self.layers = nn.ModuleList(layers)
        self.energy_readout = _linear(hidden, Irreps("0e"))
        self.vector_readout = _linear(hidden, Irreps("1o"))

    def forward(
        self, h: Tensor, x: Tensor, edge_index: Tensor, batch: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        h = self.embedding(h)  # [N, scalars]
        for layer in self.layers:
            h = layer(h, x, edge_index)
        if batch is None:
            batch = torch.zeros(len(h), dtype=torch.long, device=h.device)
        node_energy = _apply_linear(self.energy_readout, h)  # [N, 1]
        energy = scatter(node_energy, batch, int(batch.max()) + 1)[:, 0]  # [B]
        return energy, _apply_linear(self.vector_readout, h)


class ScalarVectorLayer(nn.Module):
    """Steerable message passing written out for ``C×0e + C×1o`` features.

    The special case of :class:`SteerableMessagePassing` that a notebook can
    hold without a tensor-product library: scalars ``s [N, C]`` and vectors
    ``V [N, C, 3]``, spherical harmonics up to ``l = 1`` of the unit edge
    direction ``u = (x_i − x_j)/‖x_i − x_j‖`` (``Y^0 = 1``, ``Y^1 ∝ u``), and
    the four Clebsch–Gordan paths that keep the parity of ``0e`` and ``1o``,
    each weighted per edge and channel by a radial network of the length:

        0e ⊗ 0e → 0e:  a_ij = w0 · s_j
        1o ⊗ 1o → 0e:  b_ij = w1 · (V_j · u)
        0e ⊗ 1o → 1o:  A_ij = w2 · s_j u
        1o ⊗ 0e → 1o:  B_ij = w3 · V_j

    (``1o ⊗ 1o → 1e``, the cross product, is left out: it is a pseudovector.)
    Messages are summed over incoming edges and divided by
    ``sqrt(avg_num_neighbors)``; then, with ``[t, g] = mix_scalars(S)``,

        s' = s + SiLU(t),      V' = V + σ(g) · mix_vectors(W)

    where ``mix_vectors`` mixes channels without bias (a bias would not be
    equivariant) and ``σ(g)`` gates each vector channel.

    Shapes:
        s: ``[N, C]``, V: ``[N, C, 3]``, x: ``[N, 3]``, edge_index: ``[2, E]``;
        outputs: ``[N, C]``, ``[N, C, 3]``
    """

    def __init__(
        self,
        channels: int,
        num_basis: int = 8,
        max_radius: float = 3.0,
        radial_hidden: int = 32,
        avg_num_neighbors: float = 1.0,
    ) -> None:
        super().__init__()
        self.channels, self.num_basis, self.max_radius = channels, num_basis, max_radius
        self.avg_num_neighbors = avg_num_neighbors
        self.radial = nn.Sequential(
            nn.Linear(num_basis, radial_hidden),
            nn.SiLU(),
            nn.Linear(radial_hidden, 4 * channels),
        )
        self.mix_scalars = nn.Linear(channels, 2 * channels)
        self.mix_vectors = nn.Linear(channels, channels, bias=False)

    def radial_basis(self, r: Tensor) -> Tensor:
        """Gaussians of width ``r_max/(K − 1)`` centred evenly on ``[0, r_max]``.

        Shapes:
            r: ``[E, 1]``, output: ``[E, K]``
        """
        centers = torch.linspace(
            0.0, self.max_radius, self.num_basis, dtype=r.dtype, device=r.device
        )
        width = self.max_radius / max(self.num_basis - 1, 1)
        return torch.exp(-(((r - centers) / width) ** 2))

    def forward(
        self, s: Tensor, V: Tensor, x: Tensor, edge_index: Tensor
    ) -> tuple[Tensor, Tensor]:
        n, c = s.shape
        j, i = edge_index  # source, target
        d = x[i] - x[j]  # [E, 3]
        r = d.norm(dim=-1, keepdim=True)  # [E, 1]
        u = d / r.clamp_min(1e-12)  # [E, 3], unit direction
        w = self.radial(self.radial_basis(r)).view(-1, 4, c)  # [E, 4, C]

        s_j, V_j = s[j], V[j]  # [E, C], [E, C, 3]
        scalar = w[:, 0] * s_j + w[:, 1] * (V_j * u[:, None, :]).sum(-1)  # [E, C]
        vector = w[:, 2, :, None] * s_j[..., None] * u[:, None, :]  # [E, C, 3]
        vector = vector + w[:, 3, :, None] * V_j

        norm = math.sqrt(self.avg_num_neighbors)
        S = scatter(scalar, i, n) / norm  # [N, C]
        W = scatter(vector, i, n) / norm  # [N, C, 3]
        t, g = self.mix_scalars(S).chunk(2, dim=-1)  # [N, C] each
        mixed = self.mix_vectors(W.transpose(1, 2)).transpose(1, 2)  # [N, C, 3]
        return s + F.silu(t), V + torch.sigmoid(g)[..., None] * mixed
