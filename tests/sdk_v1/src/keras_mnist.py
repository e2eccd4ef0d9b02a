"""The Keras guide's keras_mnist.py, on digits: a Keras network with the guide's
arguments; Loss and Accuracy logged, the model saved in outputs/model/."""
import argparse
import os

import keras
from azureml.core import Run

from utils import mnist

parser = argparse.ArgumentParser()
parser.add_argument("--data-folder", type=str, dest="data_folder", required=True)
parser.add_argument("--batch-size", type=int, dest="batch_size", default=50)
parser.add_argument("--first-layer-neurons", type=int, dest="n_hidden_1", default=100)
parser.add_argument("--second-layer-neurons", type=int, dest="n_hidden_2", default=100)
parser.add_argument("--learning-rate", type=float, dest="learning_rate", default=0.001)
parser.add_argument("--epochs", type=int, default=2)
args = parser.parse_args()

x_train, y_train, x_test, y_test = mnist(args.data_folder)
run = Run.get_context()
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((x_train.shape[1],)),
                          keras.layers.Dense(args.n_hidden_1, activation="relu"),
                          keras.layers.Dense(args.n_hidden_2, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
model.compile(loss="sparse_categorical_crossentropy",
              optimizer=keras.optimizers.RMSprop(learning_rate=args.learning_rate),
              metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=2,
          validation_data=(x_test, y_test))
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
run.log("Loss", float(loss))
run.log("Accuracy", float(accuracy))
os.makedirs("./outputs/model", exist_ok=True)
model.save("./outputs/model/model.keras")
print(f"test loss {loss:.3f}, accuracy {accuracy:.3f}")
