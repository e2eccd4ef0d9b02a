"""The Estimator guide's train.py, on digits: logistic regression with the guide's
--regularization, the mounted dataset read from --data-folder (and found again in
run.input_datasets), metrics logged, the model dumped to outputs/ and uploaded to the
run's root under its own name."""
import argparse
import json
import os

import joblib
import numpy as np
from azureml.core import Run
from sklearn.linear_model import LogisticRegression

from utils import mnist

parser = argparse.ArgumentParser()
parser.add_argument("--data-folder", type=str, dest="data_folder",
                    help="data folder mounting point")
parser.add_argument("--regularization", type=float, dest="reg", default=0.01,
                    help="regularization rate")
args = parser.parse_args()

x_train, y_train, x_test, y_test = mnist(args.data_folder)
run = Run.get_context()
clf = LogisticRegression(C=1.0 / args.reg, max_iter=200, random_state=42)
clf.fit(x_train, y_train)
acc = np.average(clf.predict(x_test) == y_test)
print("Accuracy is", acc)
run.log("regularization rate", np.float64(args.reg))
run.log("accuracy", np.float64(acc))
run.tag("estimator", "LogisticRegression")
os.makedirs("outputs", exist_ok=True)
joblib.dump(value=clf, filename="outputs/sklearn_mnist_model.pkl")
run.upload_file(name="sklearn_mnist_model.pkl", path_or_stream="outputs/sklearn_mnist_model.pkl")
with open("outputs/input_datasets.json", "w") as f:
    json.dump({"argument": args.data_folder, "input_datasets": run.input_datasets}, f)
