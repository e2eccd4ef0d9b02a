"""The models every area measures: scikit-learn's digits (they ship with the package)
fitted by a scikit-learn pipeline, a PyTorch MLP and (if cheap) a Keras MLP. Each is
saved the way a training job would leave it, so mlcycle registers and converts the
very files the framework-side measurements load."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

N_FEATURES = 64  # 8x8 pixel counts, 0..16


@dataclass(frozen=True)
class SavedModel:
    """A trained model on disk: its folder, the tags mlcycle needs, and the rows to send."""

    name: str
    framework: str  # mlcycle's framework tag
    folder: Path
    tags: dict = field(default_factory=dict)


def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return x.astype(np.float32), y


def rows(batch: int) -> np.ndarray:
    """The first `batch` digits, as float32 rows: the same inputs for every server."""
    x, _ = digits()
    return np.resize(x, (batch, N_FEATURES))


def flat(values) -> list:
    """Nested lists (a server's predictions) as one flat list."""
    return [v for x in values for v in flat(x)] if isinstance(values, list) else [values]


def train_sklearn(folder: Path) -> SavedModel:
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = digits()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y)
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / "model.pkl")
    return SavedModel("bench-sklearn", "ScikitLearn", folder, {"framework": "ScikitLearn"})


def train_torch(folder: Path) -> SavedModel:
    import torch
    from torch import nn

    torch.manual_seed(0)
    x, y = digits()
    images, labels = torch.tensor(x / 16.0), torch.tensor(y, dtype=torch.long)
    core = nn.Sequential(nn.Linear(N_FEATURES, 128), nn.ReLU(), nn.Linear(128, 10))
    optimiser = torch.optim.Adam(core.parameters(), lr=0.01)
    for _ in range(60):  # full batch: the digits fit at once
        optimiser.zero_grad()
        nn.functional.cross_entropy(core(images), labels).backward()
        optimiser.step()
    with torch.no_grad():  # fold the 1/16 scaling into the first layer: raw pixels in
        core[0].weight /= 16.0
    model = core.eval()
    folder.mkdir(parents=True, exist_ok=True)
    torch.jit.script(model).save(str(folder / "model.pt"))
    return SavedModel("bench-torch", "PyTorch", folder,
                      {"framework": "PyTorch", "sample_input_shape": f"[1, {N_FEATURES}]",
                       "sample_input_dtype": "float32"})


def train_keras(folder: Path) -> SavedModel:
    import keras

    keras.utils.set_random_seed(0)
    x, y = digits()
    model = keras.Sequential([keras.Input((N_FEATURES,)), keras.layers.Rescaling(1 / 16),
                              keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=5, batch_size=128, verbose=0)
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "model.keras")
    return SavedModel("bench-keras", "Keras", folder, {"framework": "Keras"})


TRAINERS = {"sklearn": train_sklearn, "torch": train_torch, "keras": train_keras}


def train(kinds: tuple[str, ...], root: Path) -> dict[str, SavedModel]:
    return {kind: TRAINERS[kind](root / kind) for kind in kinds}
