#!/usr/bin/env bash
# Builds what the benchmarks need and runs them all; figures go to stdout
# and benches/out/. Takes about 15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
if [ ! -x benches/.venv/bin/python ]; then
    python3 -m venv benches/.venv
    benches/.venv/bin/pip install --quiet "moviepy>=2.2,<3"
fi
cargo bench --locked --bench image_render
cargo bench --locked --bench speech_rtf
python3 benches/compose_bench.py
python3 benches/farm_bench.py
