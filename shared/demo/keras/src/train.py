"""Train a small Keras Sequential classifier on the digits of a data asset; save it as
a .keras file and log metrics with MLflow."""
import argparse
import os
from pathlib import Path

import keras
import mlflow
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--epochs", type=int, default=15)
args = parser.parse_args()

keras.utils.set_random_seed(0)
table = np.loadtxt(Path(args.data) / "train.csv", delimiter=",", skiprows=1)
pixels, labels = table[:, :-1], table[:, -1].astype(int)
model = keras.Sequential([
    keras.Input((64,), name="pixels"),
    keras.layers.Rescaling(1 / 16),  # the endpoint takes raw pixel counts (0..16)
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(pixels, labels, epochs=args.epochs, batch_size=64, validation_split=0.2,
                    verbose=2)
accuracy = float(history.history["val_accuracy"][-1])
print(f"validation accuracy {accuracy:.4f} after {args.epochs} epochs")
mlflow.log_param("epochs", args.epochs)
mlflow.log_metric("accuracy", accuracy)
os.makedirs("outputs/model", exist_ok=True)
model.save("outputs/model/digits.keras")
