#!/usr/bin/env python3
"""Word timings of the studio's own voice-overs (issue 22): the estimate the
studio stores (syllable-weighted within each sentence, clause ends snapped
to the pauses it finds) against the recogniser's timings (faster-whisper
tiny.en, word timestamps) — which is closer to where words really start?

Ground truth without a forced aligner: the words that follow a clear
silence. ffmpeg's silencedetect (-40 dB, ≥ 0.15 s) finds where each silence
ends; the first word after it starts there (within the detector's own
step). For each voice-over, every silence end inside the speech is matched
to the word whose start (by either method) is nearest, and both methods'
errors at that word are taken. Reported: median and 90th percentile
absolute error of each method, per engine, and how many known starts.

The texts have commas and full stops (pauses inside and between
sentences), spoken by Piper (en-US-Neural2-D) and hibari (en-US-Neural2-F).

Run from the repository root: python3 benches/alignment_bench.py
Needs `cargo build --release` and `bash scripts/setup.sh`. Writes
benches/out/alignment_bench.json.
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
STUDIO = Path(os.environ.get("STUDIO_BIN", ROOT / "target" / "release" / "studio"))

TEXTS = [
    "The lighthouse keeper climbed the stairs every evening. He lit the lamp, wound the clock, and watched the sea.",
    "Coffee spread from Ethiopia to Yemen. Monks drank it to stay awake, and merchants carried it north.",
    "In Cairo and Istanbul, coffee houses opened. People met there for news, for music, and for long games of chess.",
    "A small robot learned to paint. Every day, at sunset, it mixed new colours and tried again.",
    "Bees visit thousands of flowers. They make honey, they build wax, and they dance to share the way.",
    "The old train crossed the mountains at night. Its windows glowed like lanterns, one after another.",
]
VOICES = [("piper", "en-US-Neural2-D"), ("hibari", "en-US-Neural2-F")]


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


def silence_ends(wav):
    out = subprocess.run(["ffmpeg", "-hide_banner", "-i", str(wav), "-af", "silencedetect=n=-40dB:d=0.15",
                          "-f", "null", "-"], capture_output=True, text=True).stderr
    return [float(m) for m in re.findall(r"silence_end: ([0-9.]+)", out)]


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else None


def main():
    if not STUDIO.exists():
        sys.exit("build first: cargo build --release")
    data = Path(tempfile.mkdtemp(prefix="alignbench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, STUDIO_DATA_DIR=str(data), STUDIO_REQUESTS_PER_SECOND="0")
    proc = subprocess.Popen([str(STUDIO), "serve", "--addr", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        report = {}
        for engine, voice in VOICES:
            est_err, rec_err = [], []
            for i, text in enumerate(TEXTS):
                made = post(base, "/api/v1/sessions/align/audio",
                            {"text": text, "voice_name": voice, "provider": engine, "format": "wav"})
                heard = post(base, "/api/v1/sessions/align/transcripts", {"asset_id": made["asset_id"]})
                estimate = [w["start"] for w in made["metadata"]["words"]]
                recognised = [w["start"] for w in heard["words"]]
                wav = data / f"{engine}-{i}.wav"
                with urllib.request.urlopen(base + made["url"]) as r:
                    wav.write_bytes(r.read())
                length = made["metadata"]["duration_seconds"]
                for end in silence_ends(wav):
                    if end >= length - 0.05 or not estimate or not recognised:
                        continue
                    e = min(estimate, key=lambda s: abs(s - end))
                    r = min(recognised, key=lambda s: abs(s - end))
                    est_err.append(abs(e - end))
                    rec_err.append(abs(r - end))
            report[engine] = {
                "voice": voice,
                "known_starts": len(est_err),
                "estimate_median_ms": round(1000 * percentile(est_err, 0.5)),
                "estimate_p90_ms": round(1000 * percentile(est_err, 0.9)),
                "recogniser_median_ms": round(1000 * percentile(rec_err, 0.5)),
                "recogniser_p90_ms": round(1000 * percentile(rec_err, 0.9)),
            }
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "alignment_bench.json").write_text(json.dumps(report, indent=2))
        print(json.dumps(report, indent=2))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
