#!/usr/bin/env bash
# Debian packages the tests need: OpenMPI (mpirun, and mpicc to build mpi4py), and
# shellcheck for infra/deploy.sh.
set -euo pipefail
if command -v mpirun >/dev/null && command -v mpicc >/dev/null && command -v shellcheck >/dev/null; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openmpi-bin libopenmpi-dev shellcheck >/dev/null
