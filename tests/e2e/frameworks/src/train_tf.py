"""Train a softmax regression on iris as a plain tf.Module (no Keras) and save it as a
SavedModel whose serving signature returns probabilities and the predicted class."""
import mlflow
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_iris


class Softmax(tf.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.w = tf.Variable(tf.zeros([n_features, n_classes]))
        self.b = tf.Variable(tf.zeros([n_classes]))
        self.mean = tf.Variable(tf.zeros([n_features]), trainable=False)

    def logits(self, x):
        return tf.matmul(x - self.mean, self.w) + self.b

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="measurements")])
    def __call__(self, measurements):
        probabilities = tf.nn.softmax(self.logits(measurements))
        return {"probabilities": probabilities, "species": tf.argmax(probabilities, axis=1)}


x, y = load_iris(return_X_y=True)
x = x.astype(np.float32)
model = Softmax(4, 3)
model.mean.assign(x.mean(axis=0))
optimiser = tf.optimizers.SGD(0.1)
for _ in range(200):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, model.logits(x)))
    optimiser.apply_gradients(zip(tape.gradient(loss, [model.w, model.b]), [model.w, model.b]))
accuracy = float(np.mean(model(x)["species"].numpy() == y))
print(f"loss {float(loss):.3f}, training accuracy {accuracy:.3f}")
mlflow.log_metric("accuracy", accuracy)
tf.saved_model.save(model, "outputs/model")
