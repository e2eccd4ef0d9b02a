"""The PyTorch guide's pytorch_train.py, on digits: a small network trained for
--num_epochs, the learning rate and best validation accuracy logged, the weights saved to
<output_dir>/model.pt."""
import argparse
import os

import torch
from azureml.core.run import Run

from utils import mnist

parser = argparse.ArgumentParser()
parser.add_argument("--data-folder", type=str, dest="data_folder", required=True)
parser.add_argument("--num_epochs", type=int, default=2)
parser.add_argument("--output_dir", type=str, default="./outputs")
parser.add_argument("--learning_rate", type=float, default=0.05)
args = parser.parse_args()

x_train, y_train, x_test, y_test = (torch.tensor(a) for a in mnist(args.data_folder))
x_train, x_test = x_train.float(), x_test.float()
y_train, y_test = y_train.long(), y_test.long()
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=args.learning_rate, momentum=0.9)
run = Run.get_context()
run.log("lr", float(args.learning_rate))
best_acc = 0.0
for epoch in range(args.num_epochs):
    for batch in torch.split(torch.randperm(len(x_train)), 64):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x_train[batch]), y_train[batch])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        acc = float((model(x_test).argmax(1) == y_test).float().mean())
    print(f"epoch {epoch}: loss {float(loss):.4f} val acc {acc:.4f}", flush=True)
    best_acc = max(best_acc, acc)
run.log("best_val_acc", best_acc)
os.makedirs(args.output_dir, exist_ok=True)
torch.save(model.state_dict(), os.path.join(args.output_dir, "model.pt"))
