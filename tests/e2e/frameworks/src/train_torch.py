"""Train a tiny PyTorch digits classifier and save it as the --form asks:
torchscript (an MLP), exported (a CNN, torch.export), or pickled (an MLP whose
softmax runs in NumPy, saved whole with its class beside it)."""
import argparse
import os
import shutil

import mlflow
import torch
from sklearn.datasets import load_digits

from nets import CNN, MLP, NumpySoftmax

parser = argparse.ArgumentParser()
parser.add_argument("--form", choices=["torchscript", "exported", "pickled"], required=True)
parser.add_argument("--epochs", type=int, default=60)
args = parser.parse_args()

torch.manual_seed(0)
x, y = load_digits(return_X_y=True)
images = torch.tensor(x, dtype=torch.float32)
labels = torch.tensor(y)
model = CNN() if args.form == "exported" else MLP()
if args.form == "exported":
    images = images.reshape(-1, 1, 8, 8)
optimiser = torch.optim.Adam(model.parameters(), lr=0.02)
for _ in range(args.epochs):  # full batch: 1797 rows fit at once
    optimiser.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(images), labels)
    loss.backward()
    optimiser.step()
model.eval()
accuracy = (model(images).argmax(1) == labels).float().mean().item()
print(f"{args.form}: loss {loss.item():.3f}, training accuracy {accuracy:.3f}")
mlflow.log_metric("accuracy", accuracy)

os.makedirs("outputs/model", exist_ok=True)
if args.form == "torchscript":
    torch.jit.script(model).save("outputs/model/model.pt")
elif args.form == "exported":
    batch = torch.export.Dim("batch")
    program = torch.export.export(model, (images[:2],), dynamic_shapes=({0: batch},))
    torch.export.save(program, "outputs/model/model.pt2")
else:
    torch.save(NumpySoftmax(model), "outputs/model/model.pt")
    shutil.copy(os.path.join(os.path.dirname(__file__), "nets.py"), "outputs/model/nets.py")
