"""A sweep trial for the SDK tests: logistic regression on iris with the C it is given,
its test accuracy logged with MLflow."""
import argparse

import mlflow
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--C", type=float, required=True)
parser.add_argument("--solver", required=True)
parser.add_argument("--max-iter", type=int, required=True)
args = parser.parse_args()
x_train, x_test, y_train, y_test = train_test_split(*load_iris(return_X_y=True), test_size=0.3,
                                                    random_state=0)
model = LogisticRegression(C=args.C, solver=args.solver, max_iter=args.max_iter)
accuracy = model.fit(x_train, y_train).score(x_test, y_test)
mlflow.log_metric("accuracy", accuracy)
print(f"C={args.C} solver={args.solver} accuracy={accuracy:.4f}")
