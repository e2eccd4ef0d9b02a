"""What a parameter-server script reads first: TF_CONFIG, the cluster and this task's
place in it. Each task writes it to outputs/tf_config_<type>_<index>.json; the chief
(worker 0) logs the cluster's size. A parameter server that ends by itself lets the
run end."""
import json
import os

from azureml.core import Run

tf_config = json.loads(os.environ["TF_CONFIG"])
task = tf_config["task"]
print(f"{task['type']} {task['index']} of {json.dumps(tf_config['cluster'])}", flush=True)
os.makedirs("outputs", exist_ok=True)
with open(f"outputs/tf_config_{task['type']}_{task['index']}.json", "w") as f:
    json.dump(tf_config, f)
if task == {"type": "worker", "index": 0}:
    run = Run.get_context()
    run.log("workers", len(tf_config["cluster"]["worker"]))
    run.log("parameter_servers", len(tf_config["cluster"].get("ps", [])))
