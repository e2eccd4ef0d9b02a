#!/usr/bin/env bash
# Debian packages the tests need: OpenMPI (mpirun, and mpicc to build mpi4py), and
# the linter for infra/deploy.sh (shellcheck); chromium and its chromedriver for the studio's
# browser tests; and wrk, the load generator of `make bench`.
set -euo pipefail
if command -v mpirun >/dev/null && command -v mpicc >/dev/null && command -v shellcheck >/dev/null \
    && command -v wrk >/dev/null && command -v chromium >/dev/null \
    && command -v chromedriver >/dev/null; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openmpi-bin libopenmpi-dev shellcheck wrk \
  chromium chromium-driver >/dev/null
