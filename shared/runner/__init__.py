"""What runs on a node: code snapshots, launch plans, the node bootstrap, metrics ingestion."""
