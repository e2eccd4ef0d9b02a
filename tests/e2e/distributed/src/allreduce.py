"""An mpi4py allreduce: every rank contributes rank + 1 and gets the sum."""
import json
import os

from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
total = comm.allreduce(rank + 1, op=MPI.SUM)
report = {"rank": rank, "size": size, "allreduce": total,
          "master": os.environ["AZ_BATCH_MASTER_NODE"]}
with open(f"outputs/mpi_rank_{rank}.json", "w") as f:
    json.dump(report, f)
print(f"rank {rank} of {size}: allreduce {total}", flush=True)
