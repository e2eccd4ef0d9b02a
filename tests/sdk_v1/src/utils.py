"""Reading MNIST's idx files (gzipped), as the guides' scripts do."""
import glob
import gzip
import os
import struct

import numpy as np


def load_data(filename, label=False):
    """The images of an idx3 file as rows of pixels, or the labels of an idx1 file."""
    with gzip.open(filename) as f:
        magic = struct.unpack(">I", f.read(4))[0]
        dims = [struct.unpack(">I", f.read(4))[0] for _ in range(magic & 0xFF)]
        data = np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)
    return data if label else data.reshape(dims[0], -1)


def find(data_folder, name):
    """The one file called name anywhere under data_folder."""
    return glob.glob(os.path.join(data_folder, "**", name), recursive=True)[0]


def mnist(data_folder):
    """(x_train, y_train, x_test, y_test) from the four files under data_folder."""
    return (load_data(find(data_folder, "train-images-idx3-ubyte.gz")) / 255.0,
            load_data(find(data_folder, "train-labels-idx1-ubyte.gz"), label=True),
            load_data(find(data_folder, "t10k-images-idx3-ubyte.gz")) / 255.0,
            load_data(find(data_folder, "t10k-labels-idx1-ubyte.gz"), label=True))
