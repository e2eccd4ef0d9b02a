"""Every rank joins one gloo group and adds its rank: the sum proves they all met."""
import os

import torch
import torch.distributed as dist

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
total = torch.tensor([float(rank)])
dist.all_reduce(total)
print(f"rank {rank} of {world} node {os.environ['NODE_RANK']} sum {total.item():.0f}",
      flush=True)
dist.destroy_process_group()
