"""Train a small convolutional network on the digits of a data asset, as 1x8x8 images;
save it as TorchScript and log metrics with MLflow."""
import argparse
import os
from pathlib import Path

import mlflow
import numpy as np
import torch
from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--epochs", type=int, default=80)
args = parser.parse_args()


class DigitsCNN(nn.Module):
    """Raw pixel counts (0..16) in, ten digit logits out."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.head = nn.Linear(8 * 4 * 4, 10)

    def forward(self, images):
        features = torch.max_pool2d(torch.relu(self.conv(images / 16.0)), 2)
        return self.head(torch.flatten(features, 1))


torch.manual_seed(0)
table = np.loadtxt(Path(args.data) / "train.csv", delimiter=",", skiprows=1)
images = torch.tensor(table[:, :-1], dtype=torch.float32).reshape(-1, 1, 8, 8)
labels = torch.tensor(table[:, -1], dtype=torch.long)
validation = torch.arange(len(labels)) % 5 == 0
model = DigitsCNN()
optimiser = torch.optim.Adam(model.parameters(), lr=0.02)
for epoch in range(args.epochs):  # full batch: the training split fits at once
    optimiser.zero_grad()
    loss = nn.functional.cross_entropy(model(images[~validation]), labels[~validation])
    loss.backward()
    optimiser.step()
model.eval()
with torch.no_grad():
    accuracy = (model(images[validation]).argmax(1) == labels[validation]).float().mean().item()
print(f"validation accuracy {accuracy:.4f} after {args.epochs} epochs")
mlflow.log_param("epochs", args.epochs)
mlflow.log_metric("accuracy", accuracy)
os.makedirs("outputs/model", exist_ok=True)
torch.jit.script(model).save("outputs/model/model.pt")
