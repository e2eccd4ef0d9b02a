"""The Functions app: create it and register the blueprints; nothing else."""
import azure.functions as func

from functions import (compute_scale, data_register, deploy, http_assets, http_endpoints,
                       http_environments, http_jobs, http_sdk, http_studio, job_complete,
                       job_launch, model_register, onnx_convert, pool_timer, reconciler,
                       spec_dropped, sweep)

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
for module in (spec_dropped, http_jobs, http_assets, http_endpoints, http_environments,
               http_sdk, http_studio, data_register, compute_scale, job_launch, job_complete,
               model_register, onnx_convert, deploy, reconciler, pool_timer, sweep):
    app.register_functions(module.bp)
