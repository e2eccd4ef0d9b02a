"""A sweep trial: an SVM on iris with the C and kernel it is given, its accuracy on a
held-out third logged with MLflow."""
import argparse

import mlflow
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

parser = argparse.ArgumentParser()
parser.add_argument("--C", type=float, required=True)
parser.add_argument("--kernel", required=True)
args = parser.parse_args()
x, y = load_iris(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=1 / 3, random_state=1,
                                                    stratify=y)
accuracy = SVC(C=args.C, kernel=args.kernel).fit(x_train, y_train).score(x_test, y_test)
mlflow.log_metric("accuracy", accuracy)
print(f"C={args.C} kernel={args.kernel} accuracy={accuracy:.4f}")
