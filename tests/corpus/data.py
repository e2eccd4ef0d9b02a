"""Data made from scikit-learn's bundled sets, standing in for what Azure ML's examples
fetch from the web (azuremlexamples.blob.core.windows.net) or keep outside the repo."""
from __future__ import annotations

from pathlib import Path

IRIS_NAMES = ("Iris-setosa", "Iris-versicolor", "Iris-virginica")


def make_data(folder: Path) -> Path:
    """Write the stand-ins under folder and return it:

    iris.csv and iris/iris.csv: the columns of the examples' iris.csv
        (sepal_length, sepal_width, petal_length, petal_width, species by name);
    diabetes.csv: scikit-learn's diabetes with its `target` column;
    wikitext/{train,valid,test}.txt: a few hundred lines of the datasets' descriptions,
        for the word-language-model example's corpus.
    """
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine

    folder.mkdir(parents=True, exist_ok=True)
    iris = load_iris(as_frame=True)
    frame = iris.data.copy()
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    frame["species"] = [IRIS_NAMES[t] for t in iris.target]
    (folder / "iris").mkdir(exist_ok=True)
    for target in (folder / "iris.csv", folder / "iris" / "iris.csv"):
        frame.to_csv(target, index=False)
    load_diabetes(as_frame=True).frame.to_csv(folder / "diabetes.csv", index=False)
    lines = [line.strip() for loader in (load_iris, load_diabetes, load_digits, load_wine,
                                         load_breast_cancer)
             for line in loader().DESCR.splitlines() if line.strip()]
    text = folder / "wikitext"
    text.mkdir(exist_ok=True)
    for name, part in (("train", lines[::2]), ("valid", lines[1::4]), ("test", lines[3::4])):
        (text / f"{name}.txt").write_text("\n".join(part) + "\n")
    return folder
