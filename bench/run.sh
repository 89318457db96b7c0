#!/usr/bin/env bash
# Builds what the benchmarks need and runs them all; figures go to stdout
# and bench/out/. Takes about 15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
if [ ! -x bench/.venv/bin/python ]; then
    python3 -m venv bench/.venv
    bench/.venv/bin/pip install --quiet "moviepy>=2.2,<3"
fi
cargo bench --locked --bench image_render
cargo bench --locked --bench speech_rtf
python3 bench/compose_bench.py
python3 bench/farm_bench.py
