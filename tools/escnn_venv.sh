#!/usr/bin/env bash
# A separate environment for the benchmarks and cross-checks that compare the
# reference with escnn. escnn needs numpy<2 and pins packages that the core
# environment does not want, so it never enters .venv: it lives in .venv-escnn
# with its few runtime imports installed by hand and escnn itself --no-deps.
set -euo pipefail
VENV=${1:-.venv-escnn}
PYTHON=${PYTHON:-python3}
STAMP="$VENV/.installed-2"  # bump when the list below changes
if [[ -f "$STAMP" ]]; then
    exit 0
fi
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# torch is pinned so that pip takes the local CPU wheel (see the Makefile).
"$VENV/bin/python" -m pip install --quiet torch==2.13.0 'numpy<2' scipy joblib lie_learn pytest
"$VENV/bin/python" -m pip install --quiet --no-deps escnn==1.0.11
"$VENV/bin/python" -m pip install --quiet --no-deps -e .
"$VENV/bin/python" -c "from escnn import gspaces, nn" 2>/dev/null
touch "$STAMP"
