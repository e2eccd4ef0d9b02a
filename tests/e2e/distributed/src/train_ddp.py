"""DistributedDataParallel on gloo, configured only by the environment the launch plan
gives (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, ...).

Every rank checks an all_reduce and trains a linear model on its own shard; rank 0 logs
its loss with MLflow (Azure ML's advice for distributed jobs) and saves the model to
outputs/."""
import argparse
import json
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    dist.init_process_group("gloo")  # env:// rendezvous
    rank, world = dist.get_rank(), dist.get_world_size()
    total = torch.tensor([float(rank + 1)])
    dist.all_reduce(total)  # 1 + 2 + ... + world on every rank

    torch.manual_seed(0)  # the same initial weights everywhere, as DDP expects
    model = DistributedDataParallel(torch.nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    shard = torch.Generator().manual_seed(100 + rank)
    x = torch.randn(64, 4, generator=shard)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.25
    losses = []
    for _ in range(args.epochs):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()  # gradients are averaged over the ranks here
        optimizer.step()
        losses.append(loss.item())

    weights = [w for p in model.module.parameters() for w in p.detach().flatten().tolist()]
    report = {"rank": rank, "world_size": world, "node_rank": int(os.environ["NODE_RANK"]),
              "local_rank": int(os.environ["LOCAL_RANK"]), "all_reduce": total.item(),
              "losses": losses, "weights": weights}
    with open(f"outputs/rank_{rank}.json", "w") as f:
        json.dump(report, f)
    if rank == 0:
        import mlflow  # only rank 0 pays for the import

        for epoch, value in enumerate(losses):
            mlflow.log_metric("loss", value, step=epoch)
        torch.save(model.module.state_dict(), "outputs/model.pt")
    print(f"rank {rank}/{world}: all_reduce {total.item()}, loss {losses[-1]:.4f}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
