"""Datasets of Azure ML's SDK v1 (`azureml.data`): file datasets and how runs take them."""
from azureml.data.dataset_consumption_config import DatasetConsumptionConfig
from azureml.data.file_dataset import FileDataset

__all__ = ["DatasetConsumptionConfig", "FileDataset"]
