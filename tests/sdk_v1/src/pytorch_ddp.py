"""The PyTorch guide's distributed training, on CPUs: torch.distributed over gloo from
the environment mlcycle gives each process (MASTER_ADDR, RANK, WORLD_SIZE...), a
DistributedDataParallel linear model on each rank's shard of the digits. Each rank
writes its view to outputs/ddp_rank_<rank>.json; rank 0 logs the loss."""
import json
import os

import torch
import torch.distributed as dist
from azureml.core import Run
from sklearn.datasets import load_digits

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
x, y = load_digits(return_X_y=True)
x, y = torch.tensor(x[rank::world] / 16.0).float(), torch.tensor(y[rank::world]).long()
torch.manual_seed(0)
model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(64, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
run = Run.get_context()
for step in range(20):
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    if rank == 0:
        run.log("loss", float(loss))
os.makedirs("outputs", exist_ok=True)
with open(f"outputs/ddp_rank_{rank}.json", "w") as f:
    json.dump({"rank": rank, "world_size": world, "node_rank": int(os.environ["NODE_RANK"]),
               "weights": float(model.module.weight.abs().sum())}, f)
dist.destroy_process_group()
