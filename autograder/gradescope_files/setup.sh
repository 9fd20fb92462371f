#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# The interpreter goes to /opt, outside /autograder, so that the sandboxed
# worker can still import torch while /autograder/source is hidden from it.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
python3 -m venv /opt/gedl-venv
/opt/gedl-venv/bin/python -m pip install --quiet --upgrade pip
/opt/gedl-venv/bin/python -m pip install --quiet -r /autograder/source/requirements.txt
