"""Reports the TF_CONFIG this process got, after checking that it can listen on the
address the cluster gives its own task."""
import json
import os
import socket

config = json.loads(os.environ["TF_CONFIG"])
task = config["task"]
host, port = config["cluster"][task["type"]][task["index"]].rsplit(":", 1)
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
    server.bind((host, int(port)))
with open(f"outputs/tf_config_{task['type']}_{task['index']}.json", "w") as f:
    json.dump(config, f)
print(f"{task['type']} {task['index']} listens on {host}:{port}", flush=True)
