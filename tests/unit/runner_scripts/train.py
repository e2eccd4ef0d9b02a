"""A tiny training job: reads its input, writes outputs, logs a metric, prints lines."""
import argparse
import pathlib

import mlflow

parser = argparse.ArgumentParser()
parser.add_argument("--data")
parser.add_argument("--epochs", type=int)
parser.add_argument("--model_dir")
args = parser.parse_args()

rows = pathlib.Path(args.data).read_text().splitlines()
for epoch in range(args.epochs):
    print(f"epoch {epoch} rows {len(rows)}")
    mlflow.log_metric("loss", 1.0 / (epoch + 1), step=epoch)
mlflow.log_param("epochs", args.epochs)
pathlib.Path("outputs/x.txt").write_text("trained")
pathlib.Path("logs/train.log").write_text("done")
pathlib.Path(args.model_dir, "model.txt").write_text("weights")
print("finished")
