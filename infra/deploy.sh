#!/usr/bin/env bash
# Deploy mlcycle into an Azure resource group, in three steps:
#   1. the infrastructure (infra/main.bicep with infra/main.parameters.json);
#   2. the app's code (zip deploy with remote build, or Azure Functions Core Tools);
#   3. the Event Grid subscription for the specs/ drop zone: a second pass of the same
#      template with subscribeSpecsEvents=true. It comes last because its webhook needs the
#      host's blobs_extension system key, which exists only once the published app has
#      loaded its blob trigger, and Event Grid validates the webhook when subscribing.
# Then it prints the API URL and how to get a function key (never the key itself).
#
# Assumes `az login` (and `az account set -s SUBSCRIPTION`) were done. See docs/azure.md.
#
#   infra/deploy.sh -g RESOURCE_GROUP [-l LOCATION] [-p PARAMETERS_FILE]
#                   [--publish-with zip|func] [--no-publish]
set -euo pipefail

usage() {
  cat <<'EOF'
usage: infra/deploy.sh -g RESOURCE_GROUP [-l LOCATION] [-p PARAMETERS_FILE]
                       [--publish-with zip|func] [--no-publish]

  -g, --resource-group  resource group to deploy into (created when -l is given)
  -l, --location        region for a new resource group, e.g. swedencentral
  -p, --parameters      parameters file (default: infra/main.parameters.json)
  --publish-with        zip: az functionapp deployment source config-zip (default)
                        func: func azure functionapp publish (Azure Functions Core Tools)
  --no-publish          keep the code already deployed; only update infra and events
EOF
}

fail() {
  echo "deploy.sh: $*" >&2
  exit 1
}

CALLER_PWD="$PWD"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

RG="${MLCYCLE_RESOURCE_GROUP:-}"
LOCATION=""
PARAMS=""
PUBLISH_WITH="zip"
PUBLISH=1
DEPLOYMENT="mlcycle"
POLL_S="${MLCYCLE_DEPLOY_POLL_S:-10}"
POLL_TRIES="${MLCYCLE_DEPLOY_POLL_TRIES:-36}"
RETRY_S="${MLCYCLE_DEPLOY_RETRY_S:-30}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

while [ $# -gt 0 ]; do
  case "$1" in
    -g|--resource-group) RG="${2:?}"; shift 2 ;;
    -l|--location) LOCATION="${2:?}"; shift 2 ;;
    -p|--parameters) PARAMS="${2:?}"; shift 2 ;;
    --publish-with) PUBLISH_WITH="${2:?}"; shift 2 ;;
    --no-publish) PUBLISH=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

[ -n "$RG" ] || { usage >&2; exit 2; }
if [ -z "$PARAMS" ]; then
  PARAMS="infra/main.parameters.json"
else  # relative to where the script was called from
  case "$PARAMS" in /*) ;; *) PARAMS="$CALLER_PWD/$PARAMS" ;; esac
fi
[ -f "$PARAMS" ] || fail "no parameters file $PARAMS"
case "$PUBLISH_WITH" in zip|func) ;; *) fail "--publish-with takes zip or func" ;; esac
command -v az >/dev/null || fail "the Azure CLI (az) is needed: https://aka.ms/azure-cli"
if [ "$PUBLISH" = 1 ] && [ "$PUBLISH_WITH" = func ]; then
  command -v func >/dev/null || fail "--publish-with func needs Azure Functions Core Tools (func)"
fi
az account show --query id -o tsv >/dev/null || fail "not logged in: run az login"

# Resource providers an empty subscription has not registered yet.
for namespace in Microsoft.Storage Microsoft.ServiceBus Microsoft.Batch Microsoft.Web \
                 Microsoft.EventGrid Microsoft.Insights Microsoft.OperationalInsights; do
  state="$(az provider show -n "$namespace" --query registrationState -o tsv 2>/dev/null || true)"
  if [ "$state" != "Registered" ]; then
    echo "Registering resource provider $namespace ..."
    az provider register -n "$namespace" --wait -o none
  fi
done

if [ -n "$LOCATION" ]; then
  az group create -n "$RG" -l "$LOCATION" -o none
else
  az group show -n "$RG" -o none 2>/dev/null \
    || fail "resource group $RG does not exist: pass -l LOCATION to create it"
fi

# The signed-in user may drop spec files into the specs container (nobody, for a
# service principal login, where this lookup finds no user).
UPLOADER="$(az ad signed-in-user show --query id -o tsv 2>/dev/null || true)"

deploy_infra() {  # $1: whether to subscribe the specs blob trigger to Event Grid
  local overrides=("subscribeSpecsEvents=$1")
  if [ -n "$UPLOADER" ]; then
    overrides+=("specsUploaderPrincipalId=$UPLOADER")
  fi
  az deployment group create -g "$RG" -n "$DEPLOYMENT" \
    -f infra/main.bicep -p "@$PARAMS" -p "${overrides[@]}" -o none
}

output() {  # $1: an output of infra/main.bicep
  az deployment group show -g "$RG" -n "$DEPLOYMENT" \
    --query "properties.outputs.$1.value" -o tsv
}

# What the Functions app runs: function_app.py, host.json, requirements.txt and the two
# packages. Not the tests, the virtualenv or the infrastructure.
stage_app() {  # $1: an empty folder to copy the app into
  python3 - "$1" <<'PY'
import shutil
import sys
from pathlib import Path

target = Path(sys.argv[1])
for name in ("function_app.py", "host.json", "requirements.txt"):
    shutil.copy2(name, target / name)
for package in ("functions", "shared"):
    shutil.copytree(package, target / package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
PY
}

# Runs a command again while it fails, a few times: the app's identity is minutes old
# when its code is published, and new role assignments take minutes to apply.
retry() {
  local attempt
  for attempt in 1 2 3 4 5; do
    "$@" && return 0
    [ "$attempt" = 5 ] && return 1
    echo "  retrying in ${RETRY_S}s (new role assignments can take minutes to apply) ..."
    sleep "$RETRY_S"
  done
}

publish() {  # $1: function app name
  mkdir "$WORK/app"
  stage_app "$WORK/app"
  if [ "$PUBLISH_WITH" = func ]; then
    (cd "$WORK/app" && retry func azure functionapp publish "$1" --python) \
      || fail "publishing to $1 failed"
  else
    python3 -c 'import shutil, sys; shutil.make_archive(sys.argv[1], "zip", sys.argv[1])' \
      "$WORK/app"
    retry az functionapp deployment source config-zip -g "$RG" -n "$1" \
      --src "$WORK/app.zip" --build-remote true -o none || fail "publishing to $1 failed"
  fi
}

# Polls until the host has created its blobs_extension key (it does once it has loaded
# the blob trigger). A request to the anonymous health route wakes a scaled-to-zero app.
wait_for_blob_extension() {  # $1: function app name, $2: its URL
  local _
  for _ in $(seq "$POLL_TRIES"); do
    curl -fsS -o /dev/null --max-time 30 "$2/api/health" 2>/dev/null || true
    if [ -n "$(az functionapp keys list -g "$RG" -n "$1" \
                 --query systemKeys.blobs_extension -o tsv 2>/dev/null || true)" ]; then
      return 0
    fi
    sleep "$POLL_S"
  done
  fail "the app has no blobs_extension key yet; see its logs in Application Insights," \
       "then rerun with --no-publish"
}

echo "1/3 Deploying the infrastructure to $RG ..."
deploy_infra false
APP="$(output functionAppName)"
URL="$(output functionAppUrl)"

if [ "$PUBLISH" = 1 ]; then
  echo "2/3 Publishing the app to $APP ($PUBLISH_WITH) ..."
  publish "$APP"
else
  echo "2/3 Keeping the code already published to $APP."
fi

echo "3/3 Subscribing the specs container to Event Grid ..."
wait_for_blob_extension "$APP" "$URL"
deploy_infra true

cat <<EOF

mlcycle is deployed.
  Function app:  $APP
  API:           $URL/api
  Drop zone:     container 'specs' of storage account $(output storageAccountName)

The API wants a function key. Get one with:
  az functionapp keys list -g $RG -n $APP --query functionKeys.default -o tsv

Point the mlcycle CLI at the deployment:
  export MLCYCLE_ENDPOINT=$URL
  export MLCYCLE_KEY="\$(az functionapp keys list -g $RG -n $APP --query functionKeys.default -o tsv)"
  mlcycle job list
EOF
