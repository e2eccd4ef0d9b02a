import argparse
import os

import joblib
import mlflow
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--iris-csv", type=str)
parser.add_argument("--n-estimators", type=int, default=10)
args = parser.parse_args()

df = pd.read_csv(args.iris_csv)
print("rows:", len(df))
X = df.drop(columns=["species"]).to_numpy(dtype="float32")
y = df["species"].to_numpy()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=1)
clf = RandomForestClassifier(n_estimators=args.n_estimators, random_state=0)
clf.fit(X_train, y_train)
mlflow.log_metric("test_accuracy", clf.score(X_test, y_test))
mlflow.log_metric("n_estimators", args.n_estimators)
os.makedirs("outputs", exist_ok=True)
joblib.dump(clf, "outputs/iris-model.pkl")
