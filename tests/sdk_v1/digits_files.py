"""scikit-learn's digits written as MNIST's four files (idx format, gzipped), so that the
training guides' scripts find what they glob for: train-images-idx3-ubyte.gz and friends."""
import gzip
import struct
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

TRAIN_ROWS = 1400  # of 1797; the rest is the test set


def write_mnist_like(folder: Path) -> Path:
    """The four files in folder (created); pixels 0..255 as uint8, 8 x 8 images."""
    digits = load_digits()
    images = np.clip(digits.images * 16, 0, 255).astype(np.uint8)
    labels = digits.target.astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, rows in (("train", slice(0, TRAIN_ROWS)), ("t10k", slice(TRAIN_ROWS, None))):
        _write(folder / f"{prefix}-images-idx3-ubyte.gz", images[rows], 0x803)
        _write(folder / f"{prefix}-labels-idx1-ubyte.gz", labels[rows], 0x801)
    return folder


def _write(path: Path, array: np.ndarray, magic: int) -> None:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(header + array.tobytes())
