"""The hyperparameter-tuning guide's training script, on iris: logistic regression with
the --C and --max_iter it is given, its accuracy on a held-out third logged to the run
(the sweep's primary metric), the model dumped to outputs/."""
import argparse
import os
import warnings

import joblib
import numpy as np
from azureml.core.run import Run
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--C", type=float, default=1.0, help="inverse of regularization strength")
parser.add_argument("--max_iter", type=int, default=100, help="most solver iterations")
args = parser.parse_args()

run = Run.get_context()
run.log("Regularization Strength:", np.float64(args.C))
run.log("Max iterations:", int(args.max_iter))
x, y = load_iris(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=1 / 3, random_state=1,
                                                    stratify=y)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # few iterations are in the space
    model = LogisticRegression(C=args.C, max_iter=args.max_iter).fit(x_train, y_train)
accuracy = model.score(x_test, y_test)
run.log("Accuracy", np.float64(accuracy))
os.makedirs("outputs", exist_ok=True)
joblib.dump(model, "outputs/model.joblib")
print(f"C={args.C} max_iter={args.max_iter} accuracy={accuracy:.4f}")
