"""The TensorFlow guide's tf_mnist.py, on digits: a two-layer network trained with the
guide's arguments, its accuracies logged per epoch, saved as a SavedModel in
outputs/model, and its answers on a few test rows kept for the scoring check."""
import argparse
import json
import os

import numpy as np
import tensorflow as tf
from azureml.core import Run

from utils import mnist

parser = argparse.ArgumentParser()
parser.add_argument("--data-folder", type=str, dest="data_folder", required=True)
parser.add_argument("--batch-size", type=int, dest="batch_size", default=50)
parser.add_argument("--first-layer-neurons", type=int, dest="n_hidden_1", default=100)
parser.add_argument("--second-layer-neurons", type=int, dest="n_hidden_2", default=100)
parser.add_argument("--learning-rate", type=float, dest="learning_rate", default=0.01)
parser.add_argument("--epochs", type=int, default=8)
args = parser.parse_args()

x_train, y_train, x_test, y_test = mnist(args.data_folder)
print("training set", x_train.shape, "test set", x_test.shape)
run = Run.get_context()
tf.keras.utils.set_random_seed(0)
model = tf.keras.Sequential([
    tf.keras.Input((x_train.shape[1],), name="pixels"),
    tf.keras.layers.Dense(args.n_hidden_1, activation="relu"),
    tf.keras.layers.Dense(args.n_hidden_2, activation="relu"),
    tf.keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=tf.keras.optimizers.SGD(args.learning_rate),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                    validation_data=(x_test, y_test), verbose=2)
for train_acc, val_acc in zip(history.history["accuracy"], history.history["val_accuracy"]):
    run.log("training_acc", float(train_acc))
    run.log("validation_acc", float(val_acc))
os.makedirs("./outputs", exist_ok=True)
model.export("./outputs/model")  # a SavedModel
sample = x_test[:5].astype(np.float32)
with open("./outputs/predictions.json", "w") as f:
    json.dump({"rows": sample.tolist(), "probabilities": model.predict(sample).tolist()}, f)
