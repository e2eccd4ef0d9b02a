"""Train a digits classifier from the CSV files of a data asset; log metrics with MLflow."""
import argparse
import os
from pathlib import Path

import joblib
import mlflow
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--max-iter", type=int, default=500)
parser.add_argument("--model-dir", default="outputs/model")
args = parser.parse_args()

table = np.loadtxt(Path(args.data) / "train.csv", delimiter=",", skiprows=1)
x, y = table[:, :-1], table[:, -1].astype(int)
x_fit, x_val, y_fit, y_val = train_test_split(x, y, test_size=0.2, random_state=0)
print(f"training on {len(x_fit)} rows, validating on {len(x_val)}")

model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=args.max_iter))
model.fit(x_fit, y_fit)
accuracy = float(model.score(x_val, y_val))
print(f"validation accuracy {accuracy:.4f}")
mlflow.log_param("max_iter", args.max_iter)
mlflow.log_metric("accuracy", accuracy)

for folder in ("outputs/model", args.model_dir):  # run history and the named output
    os.makedirs(folder, exist_ok=True)
    joblib.dump(model, os.path.join(folder, "model.pkl"))
