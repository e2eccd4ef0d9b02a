"""Trains with MLflow autologging on, as Azure ML's examples do, logs a metric with
steps, and leaves one corrupt line in a metric file of its store."""
import os
from pathlib import Path
from urllib.parse import urlparse

import mlflow
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

mlflow.autolog()
X, y = load_iris(return_X_y=True)
with mlflow.start_run() as run:
    LogisticRegression(max_iter=500).fit(X, y)
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metric("broken", 1.0)

store = Path(urlparse(os.environ["MLFLOW_TRACKING_URI"]).path)
experiment = run.info.experiment_id
with open(store / experiment / run.info.run_id / "metrics" / "broken", "a") as f:
    f.write("this is not a metric line\n")
print("trained", run.info.run_id)
