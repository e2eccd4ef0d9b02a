"""Blob trigger on the specs container: the drop zone for Azure ML v2 spec files."""
import azure.functions as func

from shared.bootstrap import current
from shared.handlers.spec_dropped import accept_dropped_spec

bp = func.Blueprint()


@bp.blob_trigger(arg_name="blob", path="specs/{name}", connection="AzureWebJobsStorage",
                 source="EventGrid")
def spec_dropped(blob: func.InputStream) -> None:
    ports = current().ports()
    accept_dropped_spec(blob.name, blob.read(), blobs=ports["blobs"],
                        registry=ports["registry"], bus=ports["bus"], clock=ports["clock"])
