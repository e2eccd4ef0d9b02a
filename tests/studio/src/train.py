"""A studio test job: a linear classifier on the iris flowers trained an epoch at a time
(SGD's partial_fit), logging accuracy and loss per epoch to MLflow and saving the model.
With --hold it then keeps logging a line and a heartbeat metric until that file
exists, so a test can watch it run; the wait is bounded, so a job nobody releases ends."""
import argparse
import os
import time
from pathlib import Path

import joblib
import mlflow
import numpy as np
import pandas as pd
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--hold")
args = parser.parse_args()

frame = pd.read_csv(args.data)
X = frame.drop(columns=["species"]).to_numpy(dtype="float32")
y = frame["species"].to_numpy()
mlflow.log_params({"epochs": args.epochs, "lr": args.lr})
scaler = StandardScaler().fit(X)
X = scaler.transform(X)
model = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=args.lr, random_state=0)
for epoch in range(args.epochs):
    model.partial_fit(X, y, classes=np.unique(y))
    accuracy = float(model.score(X, y))
    loss = float(log_loss(y, model.predict_proba(X), labels=np.unique(y)))
    mlflow.log_metric("accuracy", accuracy, step=epoch)
    mlflow.log_metric("loss", loss, step=epoch)
    print(f"epoch {epoch}: accuracy {accuracy:.3f} loss {loss:.3f}", flush=True)
os.makedirs("outputs", exist_ok=True)
joblib.dump(make_pipeline(scaler, model), "outputs/model.pkl")  # both fitted

beat, deadline = 0, time.monotonic() + 240
while args.hold and not Path(args.hold).exists() and time.monotonic() < deadline:
    print(f"heartbeat {beat}", flush=True)
    mlflow.log_metric("heartbeat", beat, step=beat)
    beat += 1
    time.sleep(0.3)
print("done", flush=True)
