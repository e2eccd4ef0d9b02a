"""Train a tiny Keras Sequential digits classifier; save it as a .keras file."""
import os

import keras
import mlflow
from sklearn.datasets import load_digits

keras.utils.set_random_seed(0)
x, y = load_digits(return_X_y=True)
model = keras.Sequential([
    keras.Input((64,), name="pixels"),
    keras.layers.Rescaling(1 / 16),
    keras.layers.Dense(32, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x, y, epochs=5, batch_size=128, verbose=2)
mlflow.log_metric("accuracy", history.history["accuracy"][-1])
os.makedirs("outputs/model", exist_ok=True)
model.save("outputs/model/digits.keras")
