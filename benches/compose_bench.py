#!/usr/bin/env python3
"""Compose benchmark: a 60-second 1080p30 slideshow of 12 images with
narration and captions, rendered (a) by Content Studio, (b) by MoviePy 2 with
the same inputs, and (c) as a lower bound by one minimal hand-written ffmpeg
command (concat demuxer) encoding the same images for the same durations with
the same encoder settings (libx264 preset medium, CRF 21, AAC). Then the
editing loop: (d) compose again with nothing changed, (e) after changing one
scene's image, (f) a draft of the whole video. Reports wall time and peak
memory of each (the largest sum of resident memory over the whole process
tree, sampled every 20 ms, so that processes running side by side count
together), and ratios against (c) and (a) measured in the same run.

Run from the repository root: python3 benches/compose_bench.py
(`bash benches/run.sh` builds the release binary and the MoviePy venv first.)
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benches" / "out"
DATA = OUT / "data"
STUDIO = ROOT / "target" / "release" / "studio"
VENV_PY = ROOT / "benches" / ".venv" / "bin" / "python"
SESSION = "bench"

PROMPTS = [
    "A futuristic neon city at night in the rain", "Calm ocean at sunset", "Snowy mountains at dawn",
    "A deep forest with fireflies at night", "A desert of dunes under a bright sky", "A quiet village on a cloudy day",
    "A lighthouse in the fog", "Space with a purple nebula and a planet", "A green field in the morning",
    "A harbour at dusk with golden light", "A stormy sea at night", "A magical forest with sparkles",
]
NARRATION = [
    "Every story starts with a single idea, small enough to hold in one hand, yet big enough to grow.",
    "The sea at sunset reminds us that endings can be beautiful, calm, and full of quiet colour.",
    "High in the mountains, the first light of morning touches the fresh snow on every peak.",
    "In the forest at night, tiny lights dance slowly between the quiet trees and the sleeping ferns.",
    "The desert teaches patience, one slow golden dune after another, under a wide and endless sky.",
    "A village under grey clouds still hums with everyday life, from the bakery to the busy market.",
    "The lighthouse keeps its promise, even when the fog rolls in thick and heavy from the sea.",
    "Far above us, distant planets drift through soft clouds of violet dust and silent starlight.",
    "Morning in the fields smells of fresh grass, warm bread, and long open roads ahead of us.",
    "The harbour glows gold as the fishing boats come home at dusk, one by one, to rest.",
    "Storms at sea are loud and frightening, but they always pass in the end, and calm returns.",
    "And sometimes, if you slow down and let it, the whole world looks like pure magic again.",
]


def tree_rss_mb(root):
    """Resident memory (MB) of `root` and all its descendants, from /proc."""
    children, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/statm") as f:
                rss[int(entry)] = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            children.setdefault(ppid, []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total / 1e6


def run(cmd, **kw):
    """Runs cmd; returns (seconds, peak MB of the whole process tree)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, **kw)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, tree_rss_mb(proc.pid))
        time.sleep(0.02)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}")
    return elapsed, peak


def compose(timeline):
    """Composes a timeline file with the CLI; (seconds, MB, the video's render metadata)."""
    seconds, mb = run([STUDIO, "--data-dir", DATA, "compose", "--session", SESSION, "--timeline", timeline],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    videos = [a for a in json.loads(studio("assets", SESSION, "--type", "video"))]
    return seconds, mb, videos[-1]["metadata"]["render"]


def studio(*args):
    out = subprocess.run([STUDIO, "--data-dir", DATA, *args], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(["rm", "-rf", DATA], check=True)
    images, voices = [], []
    for prompt, text in zip(PROMPTS, NARRATION):
        images.append(studio("image", "--session", SESSION, prompt))
        voices.append(studio("say", "--session", SESSION, text))
    assets = json.loads(studio("assets", SESSION))
    durations = [a["metadata"]["duration_seconds"] for a in assets if a["type"] == "audio"]
    timeline = []
    for i in range(12):
        timeline += [{"asset_id": f"image_{i + 1}.png"}, {"asset_id": f"audio_{i + 1}.mp3"}]
    (OUT / "timeline.json").write_text(json.dumps({"timeline": timeline, "captions": True}))
    swapped = [dict(item) for item in timeline]
    swapped[10]["asset_id"] = "image_13.png"  # scene 6 gets another picture
    studio("image", "--session", SESSION, "A red hot air balloon over green hills")
    (OUT / "timeline_changed.json").write_text(json.dumps({"timeline": swapped, "captions": True}))
    (OUT / "timeline_draft.json").write_text(json.dumps({"timeline": swapped, "captions": True, "output": {"quality": "draft"}}))
    total = sum(durations)
    print(f"inputs: 12 images 1920x1080, 12 narration clips, {total:.1f} s in all")

    # (a) Content Studio, a first (full) render.
    a_time, a_mem, a_render = compose(OUT / "timeline.json")
    assert a_render["scenes_rendered"] == 12, a_render
    srt = next(DATA.glob("assets/sessions/bench/*.srt"))
    # (d) the same timeline again, (e) one scene's picture changed, (f) a draft.
    d_time, d_mem, d_render = compose(OUT / "timeline.json")
    assert d_render["scenes_rendered"] == 0, d_render
    e_time, e_mem, e_render = compose(OUT / "timeline_changed.json")
    assert e_render["scenes_rendered"] == 1, e_render
    f_time, f_mem, f_render = compose(OUT / "timeline_draft.json")
    assert f_render["scenes_rendered"] == 12, f_render

    # (c) Lower bound: concat demuxer for images and for audio, same encoder settings.
    img_list = OUT / "images.txt"
    img_list.write_text("".join(f"file '{p}'\nduration {d:.6f}\n" for p, d in zip(images, durations)) + f"file '{images[-1]}'\n")
    aud_list = OUT / "audio.txt"
    aud_list.write_text("".join(f"file '{p}'\n" for p in voices))
    c_time, c_mem = run(["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", img_list,
                         "-f", "concat", "-safe", "0", "-i", aud_list, "-map", "0:v", "-map", "1:a",
                         "-vf", "fps=30,format=yuv420p", "-c:v", "libx264", "-preset", "medium", "-crf", "21",
                         "-c:a", "aac", "-b:a", "192k", "-t", f"{total:.3f}", "-movflags", "+faststart", OUT / "lower_bound.mp4"])

    # (b) MoviePy 2, same inputs and captions.
    b = None
    if VENV_PY.exists():
        b = run([VENV_PY, ROOT / "benches" / "moviepy_render.py", json.dumps({"images": images, "voices": voices, "srt": str(srt),
                 "font": str(ROOT / "assets" / "fonts" / "DejaVuSans-Bold.ttf"), "out": str(OUT / "moviepy.mp4")})],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    lines = [
        f"Compose benchmark ({total:.0f} s, 1080p30, 12 images + narration + captions), one run on this machine:",
        f"- (c) lower bound, one ffmpeg command (no captions, no loudness): {c_time:.1f} s, peak {c_mem:.0f} MB",
        f"- (a) Content Studio, first render: {a_time:.1f} s = {a_time / c_time:.2f}x the lower bound, peak {a_mem:.0f} MB",
        f"- (d) again, nothing changed: {d_time:.2f} s = {d_time / a_time:.3f}x the first render, peak {d_mem:.0f} MB",
        f"- (e) one scene's picture changed: {e_time:.2f} s = {e_time / a_time:.3f}x the first render, peak {e_mem:.0f} MB",
        f"- (f) a draft of the whole video: {f_time:.2f} s = {f_time / a_time:.3f}x the first render, peak {f_mem:.0f} MB",
    ]
    if b:
        lines.append(f"- (b) MoviePy 2: {b[0]:.1f} s = {b[0] / c_time:.2f}x the lower bound, peak {b[1]:.0f} MB; "
                     f"Content Studio is {b[0] / a_time:.1f}x faster")
    else:
        lines.append("- (b) MoviePy 2: skipped (run bash benches/run.sh to create benches/.venv)")
    text = "\n".join(lines)
    print(text)
    (OUT / "results.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
