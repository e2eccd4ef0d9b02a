"""What the guides' Horovod scripts do, with mpi4py in place of Horovod (not installed
here): every rank trains a softmax regression on its shard of the digits, gradients are
averaged with an allreduce each step (Horovod's DistributedOptimizer), rank 0 logs the
loss. Each rank writes what it ended with to outputs/mpi_rank_<rank>.json."""
import argparse
import json
import os

import numpy as np
from azureml.core import Run
from mpi4py import MPI

from utils import mnist

parser = argparse.ArgumentParser()
parser.add_argument("--data-folder", required=True)
parser.add_argument("--steps", type=int, default=20)
args = parser.parse_args()

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
x, y, _, _ = mnist(args.data_folder)
x, y = x[rank::size], y[rank::size]  # this rank's shard
weights = np.zeros((x.shape[1], 10))
run = Run.get_context()
for step in range(args.steps):
    logits = x @ weights
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(len(y)), y] + 1e-12))
    grad = x.T @ (p - np.eye(10)[y]) / len(y)
    total = np.empty_like(grad)
    comm.Allreduce(grad, total, op=MPI.SUM)
    weights -= 0.5 * total / size
    mean_loss = comm.allreduce(loss, op=MPI.SUM) / size
    if rank == 0:
        run.log("loss", mean_loss)
print(f"rank {rank} of {size}: loss {mean_loss:.4f}", flush=True)
os.makedirs("outputs", exist_ok=True)
with open(f"outputs/mpi_rank_{rank}.json", "w") as f:
    json.dump({"rank": rank, "size": size, "loss": mean_loss,
               "checksum": float(np.abs(weights).sum())}, f)
