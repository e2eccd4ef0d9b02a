"""Trains a classifier on the CSV it is given, a few passes at a time, as a notebook's
training script does, and saves the model where Azure ML's guides do: ./outputs/model."""
import argparse
import os
import time

import joblib
import numpy as np
from sklearn.linear_model import SGDClassifier

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--epochs", type=int, default=6)
args = parser.parse_args()

table = np.loadtxt(args.data, delimiter=",", skiprows=1)
x, y = table[:, :-1], table[:, -1].astype(int)
print(f"read {len(x)} rows from {os.path.basename(args.data)}", flush=True)
model = SGDClassifier(random_state=0)
for epoch in range(args.epochs):
    model.partial_fit(x, y, classes=np.unique(y))
    print(f"epoch {epoch} accuracy {model.score(x, y):.3f}", flush=True)
    time.sleep(1)  # a pass of real training takes a while; the log streams meanwhile
os.makedirs("outputs/model", exist_ok=True)
joblib.dump(model, "outputs/model/model.pkl")
print("saved outputs/model/model.pkl", flush=True)
