#!/usr/bin/env python3
"""Hearing benchmark (issue 22): how fast the offline recogniser transcribes
and how well it hears the studio's own voices.

Steps: `studio serve` on a free loopback port with a fresh data dir; for each
of a fixed set of texts, a voice-over by Piper (en-US-Neural2-D) and by hibari
(en-US-Neural2-F); each transcribed through `POST /transcripts`; word error
rate against the text (words compared lowercase without punctuation,
Levenshtein over words). Speed: the recogniser's own script run on each
voice-over's WAV, which reports the model's load time apart from the
transcription time; the ratio is seconds of speech per second of
transcription (model load excluded), and the load is reported alone.

Run from the repository root: python3 benches/hearing_bench.py
Needs: a build of `studio` (release if present, else debug; or STUDIO_BIN),
and `bash scripts/setup.sh` (Piper, hibari, faster-whisper). Writes
benches/out/hearing_bench.json.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benches" / "out"
WHISPER_PY = ROOT / ".tools" / "whisper" / "bin" / "python"
SCRIPT = (ROOT / "src" / "tools" / "transcribe" / "whisper.py").read_text()

TEXTS = [
    "The lighthouse keeper climbed the stairs every evening to light the lamp.",
    "Coffee spread from the highlands of Ethiopia to the ports of Yemen, where monks drank it to stay awake.",
    "Merchants carried the beans to Cairo and Istanbul, and coffee houses became places of news and music.",
    "A small robot learned to paint by watching the sunset over the harbour every day for a year.",
    "Bees visit thousands of flowers to make a single spoonful of honey, and they dance to share the way.",
    "The old train crossed the mountains at night, its windows glowing like a string of lanterns.",
]
VOICES = [("piper", "en-US-Neural2-D"), ("hibari", "en-US-Neural2-F")]


def studio_binary():
    if os.environ.get("STUDIO_BIN"):
        return Path(os.environ["STUDIO_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    release = target / "release" / "studio"
    return release if release.exists() else target / "debug" / "studio"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def post(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.load(r)


def words(text):
    return [w for w in (re.sub(r"[^\w']", "", t).lower() for t in text.split()) if w]


def wer(ref, hyp):
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
    return d[len(hyp)], len(ref)


def main():
    if not WHISPER_PY.exists():
        sys.exit("faster-whisper is not installed: bash scripts/setup.sh")
    data = Path(tempfile.mkdtemp(prefix="hearing-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, STUDIO_DATA_DIR=str(data), STUDIO_REQUESTS_PER_SECOND="0")
    proc = subprocess.Popen([str(studio_binary()), "serve", "--addr", f"127.0.0.1:{port}"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        results = {}
        speech_total = 0.0
        work_total = 0.0
        loads = []
        for engine, voice in VOICES:
            errors = total = 0
            for i, text in enumerate(TEXTS):
                made = post(base, "/api/v1/sessions/hearing/audio",
                            {"text": text, "voice_name": voice, "provider": engine, "format": "wav"})
                heard = post(base, "/api/v1/sessions/hearing/transcripts", {"asset_id": made["asset_id"]})
                e, n = wer(words(text), words(heard["text"]))
                errors, total = errors + e, total + n
                # Speed: the engine's script on the WAV, load reported apart.
                wav = data / f"{engine}-{i}.wav"
                with urllib.request.urlopen(base + made["url"]) as r:
                    wav.write_bytes(r.read())
                out = subprocess.run([str(WHISPER_PY), "-c", SCRIPT, str(wav), "en"],
                                     capture_output=True, text=True, check=True)
                timing = json.loads(out.stdout.strip().splitlines()[-1])
                speech_total += timing["duration_seconds"]
                work_total += timing["seconds"]
                loads.append(timing["model_load_seconds"])
            results[engine] = {"voice": voice, "word_errors": errors, "words": total,
                               "wer_percent": round(100.0 * errors / total, 1)}
        loads.sort()
        summary = {
            "texts": len(TEXTS),
            "engines": results,
            "speech_seconds": round(speech_total, 1),
            "transcription_seconds": round(work_total, 2),
            "times_real_time": round(speech_total / work_total, 1),
            "model_load_seconds_median": loads[len(loads) // 2],
            "cores": os.cpu_count(),
        }
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "hearing_bench.json").write_text(json.dumps(summary, indent=2))
        print(json.dumps(summary, indent=2))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
