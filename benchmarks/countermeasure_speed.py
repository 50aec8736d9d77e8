"""How much CPU each spoofing countermeasure costs per second of audio scored.

Prints, per countermeasure: CPU milliseconds and wall milliseconds per second of audio (batch 1,
real speech, `--seconds` long so the window policy's cost is included), the cost of one
window for windowed detectors (4.04 s at 16 kHz for AASIST, 4 s at 8 kHz for the LCNN), and
the process's peak resident memory. Each countermeasure runs in its own process so that its
peak memory is its own. The published AASIST weights load from `--weights-dir`; voiceauth's
own detectors from the models shipped in the repository (models/liveness/lcnn, whisper-lr,
ensemble). Figures, not assertions.

    python benchmarks/countermeasure_speed.py [--seconds 12] [--repeats 3] [--threads 1]
        [--weights-dir ../shared/models/aasist] [--cm aasist --cm lcnn --cm ensemble ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared"
SPEECH = SHARED / "data" / "autovc_vctk_samples"
SHIPPED = ROOT / "models" / "liveness"
"""voiceauth's own countermeasures (lcnn, whisper-lr, ensemble) load from here."""


def cpu_model() -> str:
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def speech(seconds: float, rate: int) -> np.ndarray:
    """`seconds` of real speech at `rate` Hz: VCTK clips end to end."""
    from voiceauth.audio.io import load_audio
    from voiceauth.audio.resample import resample

    need, parts = round(seconds * rate), []
    for path in sorted(SPEECH.glob("*/*.wav")):
        audio = load_audio(path)
        parts.append(resample(audio.samples, audio.sample_rate, rate))
        if sum(len(p) for p in parts) >= need:
            break
    return np.concatenate(parts)[:need]


def worker(name: str, weights_dir: Path, seconds: float, repeats: int, threads: int) -> dict:
    import torch

    from voiceauth.liveness.base import create_countermeasure
    from voiceauth.liveness.windowed import WindowedCountermeasure
    from voiceauth.liveness.windows import window_starts

    torch.set_num_threads(threads)
    shipped = SHIPPED / name
    cm = create_countermeasure(name, weights_dir=shipped if shipped.is_dir() else weights_dir)
    samples = speech(seconds, cm.sample_rate)
    cm.score(samples[: cm.min_samples])  # warm-up: first-call allocations
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(repeats):
        cm.score(samples)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    audio_s = repeats * len(samples) / cm.sample_rate
    windows = (
        repeats * len(window_starts(len(samples), cm.window))
        if isinstance(cm, WindowedCountermeasure)
        else None
    )
    return {
        "cm": f"{cm.cm_id}@{cm.version}",
        "audio_s": audio_s,
        "cpu_ms_per_audio_s": 1000 * cpu / audio_s,
        "wall_ms_per_audio_s": 1000 * wall / audio_s,
        "cpu_ms_per_call": 1000 * cpu / repeats,
        "cpu_ms_per_window": None if windows is None else 1000 * cpu / windows,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="audio per scoring call")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--weights-dir", type=Path, default=SHARED / "models" / "aasist")
    parser.add_argument("--cm", action="append", help="countermeasure (repeatable)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = worker(args.worker, args.weights_dir, args.seconds, args.repeats, args.threads)
        print(json.dumps(result))
        return

    print(
        f"machine: {cpu_model()}, {os.cpu_count()} CPUs, {platform.system()}, "
        f"python {platform.python_version()}, torch threads {args.threads}, "
        f"{args.seconds:g} s of speech x {args.repeats}"
    )
    for name in args.cm or ["aasist", "aasist-l", "lcnn", "whisper-lr", "ensemble"]:
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--worker",
                name,
                "--seconds",
                str(args.seconds),
                "--repeats",
                str(args.repeats),
                "--threads",
                str(args.threads),
                "--weights-dir",
                str(args.weights_dir),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"{name}: failed\n{done.stderr}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{name}: {r['cm']}, peak RSS {r['peak_rss_mb']:.0f} MB\n"
            f"  {r['cpu_ms_per_audio_s']:.1f} CPU ms / audio s, "
            f"{r['wall_ms_per_audio_s']:.1f} wall ms / audio s, "
            f"{r['cpu_ms_per_call']:.1f} CPU ms per {args.seconds:g}-s call"
            + (
                ""
                if r["cpu_ms_per_window"] is None
                else f", {r['cpu_ms_per_window']:.1f} CPU ms / window"
            )
        )


if __name__ == "__main__":
    main()
