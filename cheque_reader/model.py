"""LeNet-5 networks: the 1998 original (:class:`LeNet5Classic`) and the default (:class:`LeNet5`).

Both take the paper's input, ``(N, 1, 32, 32)`` float32 with background -0.1 and ink
1.175 (:mod:`cheque_reader.normalize`), and return ``(N, 11)`` logits: digits 0-9 and
``"not_digit"`` (the paper's cheque reader called it the "rubbish" class).

>>> import torch
>>> LeNet5()(torch.zeros(2, 1, 32, 32)).shape
torch.Size([2, 11])
>>> count_parameters(LeNet5Classic())
60000
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn

#: Class names, in logit order.
CLASSES = tuple(str(d) for d in range(10)) + ("not_digit",)
NOT_DIGIT = 10


# --------------------------------------------------------------------------- modern


class LeNet5(nn.Module):
    """LeNet-5's topology with today's practice: the default classifier.

    C1 5x5 conv -> BN -> ReLU -> 2x2 max-pool (S2) -> C3 5x5 conv -> BN -> ReLU -> max-pool (S4)
    -> C5 5x5 conv (a 1x1 map, as in the paper) -> BN -> ReLU -> dropout -> F6 -> ReLU -> dropout
    -> 11 logits (softmax). Widths are parameters; at most 100,000 parameters.

    >>> import torch
    >>> m = LeNet5(c1=6, c3=16, c5=120, f6=84)
    >>> count_parameters(m) < 100_000
    True
    """

    def __init__(self, c1: int = 6, c3: int = 16, c5: int = 120, f6: int = 84, n_classes: int = 11, dropout: float = 0.25):
        super().__init__()
        self.config = dict(c1=c1, c3=c3, c5=c5, f6=f6, n_classes=n_classes, dropout=dropout)
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 5, bias=False),
            nn.BatchNorm2d(c1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c3, 5, bias=False),
            nn.BatchNorm2d(c3),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(c3, c5, 5, bias=False),
            nn.BatchNorm2d(c5),
            nn.ReLU(inplace=True),
            nn.Flatten(),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(c5, f6),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(f6, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))

    def fused(self) -> nn.Sequential:
        """An inference-only copy with batch norm folded into the convolutions (same outputs in eval)."""
        from torch.nn.utils.fusion import fuse_conv_bn_eval

        f = [m for m in self.eval().features]
        convs = [fuse_conv_bn_eval(f[i], f[i + 1]) for i in (0, 4, 8)]
        lin = [m for m in self.classifier if isinstance(m, nn.Linear)]
        import copy

        return nn.Sequential(
            convs[0], nn.ReLU(), nn.MaxPool2d(2),
            convs[1], nn.ReLU(), nn.MaxPool2d(2),
            convs[2], nn.ReLU(), nn.Flatten(),
            copy.deepcopy(lin[0]), nn.ReLU(), copy.deepcopy(lin[1]),
        ).eval()


# --------------------------------------------------------------------------- classic 1998

#: Table I of LeCun et al. (1998): which S2 maps (rows) feed each C3 map (columns). 60 links.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)

#: Stylized 7x12 digit bitmaps for the RBF output codes ('#' = +1, '.' = -1). The paper's exact
#: bitmaps (its Fig. 3) are not reproduced here; these are drawn in the same spirit.
DIGIT_BITMAPS = (
    ("..###..", ".##.##.", "##...##", "##...##", "##...##", "##...##", "##...##", "##...##", "##...##", ".##.##.", "..###..", "......."),
    ("...##..", "..###..", ".####..", "...##..", "...##..", "...##..", "...##..", "...##..", "...##..", "...##..", ".######", "......."),
    (".#####.", "##...##", ".....##", ".....##", "....##.", "...##..", "..##...", ".##....", "##.....", "##.....", "#######", "......."),
    (".#####.", "##...##", ".....##", ".....##", "..####.", ".....##", ".....##", ".....##", ".....##", "##...##", ".#####.", "......."),
    ("....##.", "...###.", "..####.", ".##.##.", "##..##.", "##..##.", "#######", "....##.", "....##.", "....##.", "....##.", "......."),
    ("#######", "##.....", "##.....", "##.....", "######.", ".....##", ".....##", ".....##", ".....##", "##...##", ".#####.", "......."),
    ("..####.", ".##....", "##.....", "##.....", "######.", "##...##", "##...##", "##...##", "##...##", "##...##", ".#####.", "......."),
    ("#######", ".....##", ".....##", "....##.", "...##..", "...##..", "..##...", "..##...", "..##...", "..##...", "..##...", "......."),
    (".#####.", "##...##", "##...##", "##...##", ".#####.", "##...##", "##...##", "##...##", "##...##", "##...##", ".#####.", "......."),
    (".#####.", "##...##", "##...##", "##...##", "##...##", ".######", ".....##", ".....##", ".....##", "....##.", ".####..", "......."),
)


def rbf_codes() -> torch.Tensor:
    """The fixed ``(10, 84)`` +-1 RBF centres from :data:`DIGIT_BITMAPS`.

    >>> codes = rbf_codes()
    >>> tuple(codes.shape), sorted(codes.unique().tolist())
    ((10, 84), [-1.0, 1.0])
    """
    rows = [[1.0 if ch == "#" else -1.0 for line in bmp for ch in line] for bmp in DIGIT_BITMAPS]
    return torch.tensor(rows, dtype=torch.float32)


def squash(a: torch.Tensor) -> torch.Tensor:
    """The paper's scaled tanh, ``1.7159 tanh(2a/3)``: 1 at 1, 1.7159 at infinity.

    >>> [round(v, 4) for v in squash(torch.tensor([0.0, 1.0, 100.0])).tolist()]
    [0.0, 1.0, 1.7159]
    """
    return 1.7159 * torch.tanh(a * (2.0 / 3.0))


class Subsampling(nn.Module):
    """S2/S4: the sum of each 2x2 block times a trainable coefficient, plus a trainable bias (per map).

    >>> tuple(Subsampling(6)(torch.ones(1, 6, 28, 28)).shape)
    (1, 6, 14, 14)
    """

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(channels))
        self.bias = nn.Parameter(torch.empty(channels))
        self.fan_in = 4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.avg_pool2d(x, 2) * 4.0
        return s * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class MaskedConv2d(nn.Conv2d):
    """A convolution whose input-output links follow a fixed connection table (C3).

    >>> tuple(MaskedConv2d(6, 16, 5, C3_TABLE)(torch.zeros(1, 6, 14, 14)).shape)
    (1, 16, 10, 10)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, table):
        super().__init__(in_channels, out_channels, kernel_size)
        mask = torch.zeros(out_channels, in_channels, 1, 1)
        for o, ins in enumerate(table):
            mask[o, list(ins), 0, 0] = 1.0
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias)

    def n_effective(self) -> int:
        """Trainable parameters that are connected (masked weights do not count)."""
        k = self.kernel_size[0] * self.kernel_size[1]
        return int(self.mask.sum().item()) * k + self.out_channels


class LeNet5Classic(nn.Module):
    """The 1998 LeNet-5 (LeCun, Bottou, Bengio, Haffner), faithfully.

    C1 6@28x28 -> S2 6@14x14 (trainable subsampling) -> C3 16@10x10 (Table I, 60 links)
    -> S4 16@5x5 -> C5 120 -> F6 84 -> Euclidean RBF output against fixed 7x12 +-1 codes.
    Every layer up to F6 is followed by ``1.7159 tanh(2a/3)``; weights start uniform in
    +-2.4/fan_in. 60,000 trainable parameters.

    ``forward`` returns 11 logits: ``-y_i`` for the RBF penalties ``y_i`` of digits 0-9 and
    ``-j`` for the paper's constant "rubbish" term ``e^-j`` of its MAP criterion (Eq. 9), so
    softmax of the logits is the posterior the paper's loss trains.

    >>> net = LeNet5Classic()
    >>> sum(p.numel() for p in net.parameters()), tuple(net(torch.zeros(2, 1, 32, 32)).shape)
    (60900, (2, 11))
    """

    def __init__(self, j: float = 5.0, n_classes: int = 11):
        super().__init__()
        self.config = dict(j=j, n_classes=n_classes)
        self.c1 = nn.Conv2d(1, 6, 5)
        self.s2 = Subsampling(6)
        self.c3 = MaskedConv2d(6, 16, 5, C3_TABLE)
        self.s4 = Subsampling(16)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.register_buffer("codes", rbf_codes())
        self.j = float(j)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform +-2.4/F_i init, F_i the fan-in of the unit (connected inputs only for C3)."""
        with torch.no_grad():
            for m, fan_in in ((self.c1, 25), (self.s2, 4), (self.c5, 16 * 25), (self.f6, 120), (self.s4, 4)):
                r = 2.4 / fan_in
                m.weight.uniform_(-r, r)
                m.bias.uniform_(-r, r)
            links = self.c3.mask.sum(dim=1).view(-1)  # inputs per C3 map
            for o in range(16):
                r = 2.4 / (float(links[o]) * 25)
                self.c3.weight[o].uniform_(-r, r)
                self.c3.bias[o].uniform_(-r, r)

    def penalties(self, x: torch.Tensor) -> torch.Tensor:
        """The RBF outputs ``y_i = ||F6 - w_i||^2``, shape ``(N, 10)``."""
        h = squash(self.c1(x))
        h = squash(self.s2(h))
        h = squash(self.c3(h))
        h = squash(self.s4(h))
        h = squash(self.c5(h)).flatten(1)
        h = squash(self.f6(h))
        return ((h.unsqueeze(1) - self.codes.unsqueeze(0)) ** 2).sum(dim=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.penalties(x)
        rubbish = torch.full((y.shape[0], 1), -self.j, dtype=y.dtype, device=y.device)
        return torch.cat([-y, rubbish], dim=1)


def map_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The paper's MAP criterion (Eq. 9) from :class:`LeNet5Classic` logits.

    ``E = y_D + log(e^-j + sum_i e^-y_i)``, the cross-entropy of the digit logits
    against the label with the constant rubbish term in the partition function.

    >>> round(float(map_loss(torch.zeros(1, 11), torch.tensor([3]))), 4)  # log 11: all 11 terms alike
    2.3979
    """
    return F.cross_entropy(logits, labels)


# --------------------------------------------------------------------------- helpers

ARCHITECTURES = {"LeNet5": LeNet5, "LeNet5Classic": LeNet5Classic}


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (for :class:`MaskedConv2d`, only the connected weights).

    >>> count_parameters(LeNet5Classic())
    60000
    """
    total = 0
    for m in model.modules():
        if isinstance(m, MaskedConv2d):
            total += m.n_effective()
            continue
        total += sum(p.numel() for p in m.parameters(recurse=False) if p.requires_grad)
    return total


def build_model(architecture: Mapping[str, Any]) -> nn.Module:
    """A model from a sidecar's ``architecture`` entry, ``{"name": ..., "config": {...}}``.

    >>> type(build_model({"name": "LeNet5", "config": {"c1": 8}})).__name__
    'LeNet5'
    """
    name = architecture.get("name")
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; known: {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[name](**dict(architecture.get("config") or {}))


def architecture_of(model: nn.Module) -> dict:
    """The sidecar ``architecture`` entry that rebuilds ``model``.

    >>> entry = architecture_of(LeNet5(c1=8))
    >>> entry["name"], entry["config"]["c1"], architecture_of(build_model(entry)) == entry
    ('LeNet5', 8, True)
    """
    return {"name": type(model).__name__, "config": dict(model.config), "parameters": count_parameters(model)}


__all__ = [
    "CLASSES", "NOT_DIGIT", "LeNet5", "LeNet5Classic", "C3_TABLE", "DIGIT_BITMAPS", "rbf_codes", "squash",
    "map_loss", "count_parameters", "build_model", "architecture_of",
]
