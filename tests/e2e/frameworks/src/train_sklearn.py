"""Train a scaler + logistic regression pipeline on iris; pickle it with joblib."""
import os

import joblib
import mlflow
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

x, y = load_iris(return_X_y=True)
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y)
mlflow.log_metric("accuracy", model.score(x, y))
os.makedirs("outputs/model", exist_ok=True)
joblib.dump(model, "outputs/model/model.pkl")
