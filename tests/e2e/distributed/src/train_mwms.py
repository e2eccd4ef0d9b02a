"""A small Keras model trained with MultiWorkerMirroredStrategy, which reads the cluster
and this worker's place in it from TF_CONFIG.

Keras 3's fit() does not support MultiWorkerMirroredStrategy, so the training loop is
written out: each step runs on every worker and gradients are all-reduced."""
import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

BATCH = 16


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    task = json.loads(os.environ["TF_CONFIG"])["task"]
    rows = np.random.RandomState(0).rand(128, 4).astype("float32")
    labels = (rows.sum(axis=1, keepdims=True) > 2).astype("float32")
    global_batch = BATCH * strategy.num_replicas_in_sync
    data = tf.data.Dataset.from_tensor_slices((rows, labels)).batch(global_batch)
    batches = strategy.experimental_distribute_dataset(data)  # each worker gets its share

    with strategy.scope():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(1, activation="sigmoid")])
        optimizer = keras.optimizers.SGD(0.5)
    loss_of = keras.losses.BinaryCrossentropy(reduction="none")

    @tf.function
    def train_step(batch):
        def step(x, y):
            with tf.GradientTape() as tape:
                loss = tf.nn.compute_average_loss(loss_of(y, model(x, training=True)),
                                                  global_batch_size=global_batch)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss
        return strategy.reduce("SUM", strategy.run(step, args=batch), axis=None)

    losses = []
    for epoch in range(args.epochs):
        losses.append(float(sum(float(train_step(batch)) for batch in batches)))
        print(f"worker {task['index']} epoch {epoch} loss {losses[-1]:.4f}", flush=True)

    weights = [float(w) for array in model.get_weights() for w in array.flatten()]
    report = {"task": task, "replicas": strategy.num_replicas_in_sync, "losses": losses,
              "weights": weights}
    with open(f"outputs/worker_{task['index']}.json", "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main()
