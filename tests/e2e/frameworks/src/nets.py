"""The PyTorch networks the test jobs train; saved beside a pickled model so that
the converter can import the class."""
import numpy as np
import torch
from torch import nn


class MLP(nn.Module):
    """64 pixels (0..16) -> 10 digit logits."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x):
        return self.layers(x / 16.0)


class CNN(nn.Module):
    """1x8x8 images -> 10 digit logits."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.head = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv(x / 16.0)), 2)
        return self.head(torch.flatten(x, 1))


class NumpySoftmax(nn.Module):
    """An MLP whose softmax is computed in NumPy: no exporter can follow it."""

    def __init__(self, mlp):
        super().__init__()
        self.mlp = mlp

    def forward(self, x):
        logits = self.mlp(x).detach().numpy()
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return torch.from_numpy(exp / exp.sum(axis=1, keepdims=True))
