"""How fast each embedder turns speech into embeddings on this CPU, and at what memory cost.

Prints, per embedder: seconds of audio embedded per CPU second (and per wall second) at batch 1
and batched, for 16 kHz wideband input and for 8 kHz telephone input (its upsampling to the
model's 16 kHz counted), and the process's peak resident memory. Each embedder runs in its own
process so that peak memory is its own. Figures, not assertions.

    python benchmarks/embedding_speed.py [--files 8] [--batch 8] [--threads 1] [--ecapa-dir DIR]

Without `--ecapa-dir`, ECAPA is measured with the published architecture (from
../shared/models/spkrec-ecapa-voxceleb/hyperparams.yaml) and random weights: speed only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared"
LIBRI = SHARED / "data" / "resemblyzer_librispeech" / "librispeech_train-clean-100"


def random_published_ecapa(out: Path) -> Path:
    """A model dir with the published ECAPA architecture and random weights."""
    import torch

    from voiceauth.embeddings.ecapa_hparams import EcapaHparams
    from voiceauth.training.checkpoint import EmbeddingStats, write_model_dir

    hparams = EcapaHparams.load(SHARED / "models" / "spkrec-ecapa-voxceleb" / "hyperparams.yaml")
    dim = 192
    write_model_dir(
        out,
        hparams=hparams,
        model=hparams.build_model(),
        classifier=None,
        stats=EmbeddingStats(torch.zeros(dim), torch.ones(dim), 2),
        labels=(),
        title="published ECAPA architecture, random weights (speed benchmark only)",
    )
    return out


def cpu_model() -> str:
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def worker(name: str, ecapa_dir: str | None, files: int, batch: int, threads: int) -> dict:
    import torch

    from voiceauth.audio.channel import telephone_channel
    from voiceauth.audio.frontend import extract_speech
    from voiceauth.audio.io import load_audio
    from voiceauth.audio.resample import resample
    from voiceauth.audio.vad import SileroVad
    from voiceauth.embeddings.factory import create_embedder

    torch.set_num_threads(threads)
    embedder = create_embedder(name, ecapa_dir=Path(ecapa_dir or "/nonexistent"))
    vad = SileroVad()
    paths = sorted(LIBRI.glob("*.flac"))[:files]
    wide, narrow = [], []
    for path in paths:
        audio = load_audio(path)
        wide.append(extract_speech(audio, vad, sample_rate=16_000).samples)
        narrow.append(extract_speech(telephone_channel(audio), vad, sample_rate=8_000).samples)
    seconds_wide = sum(len(x) for x in wide) / 16_000
    seconds_narrow = sum(len(x) for x in narrow) / 8_000
    embedder.embed(wide[0])  # warm-up: first-call allocations and lazy initialisation

    def measure(inputs: list[np.ndarray], rate: int, size: int) -> dict[str, float]:
        cpu, wall = time.process_time(), time.perf_counter()
        for start in range(0, len(inputs), size):
            chunk = [resample(x, rate, 16_000) for x in inputs[start : start + size]]
            embedder.embed_batch(chunk)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        total = sum(len(x) for x in inputs) / rate
        return {"audio_s_per_cpu_s": total / cpu, "audio_s_per_wall_s": total / wall}

    return {
        "embedder": f"{embedder.embedder_id}@{embedder.version}",
        "audio_seconds": {"wideband": seconds_wide, "8k": seconds_narrow},
        "wideband_batch1": measure(wide, 16_000, 1),
        f"wideband_batch{batch}": measure(wide, 16_000, batch),
        "8k_batch1": measure(narrow, 8_000, 1),
        f"8k_batch{batch}": measure(narrow, 8_000, batch),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=8, help="LibriSpeech files (~14 s each)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ecapa-dir", help="a trained or published ECAPA model dir")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        name, _, directory = args.worker.partition(":")
        result = worker(name, directory or None, args.files, args.batch, args.threads)
        print(json.dumps(result))
        return

    print(
        f"machine: {cpu_model()}, {os.cpu_count()} CPUs, {platform.system()}, "
        f"python {platform.python_version()}, torch threads {args.threads}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("ge2e", "ge2e", ""), ("ecapa (random weights)", "ecapa", "")]
        runs[1] = (runs[1][0], "ecapa", str(random_published_ecapa(Path(tmp) / "ecapa")))
        if args.ecapa_dir:
            runs.append((f"ecapa ({args.ecapa_dir})", "ecapa", args.ecapa_dir))
        for label, name, directory in runs:
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    f"{name}:{directory}",
                    "--files",
                    str(args.files),
                    "--batch",
                    str(args.batch),
                    "--threads",
                    str(args.threads),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"\n{label}: {result['embedder']}, peak RSS {result['peak_rss_mb']:.0f} MB, "
                f"{result['audio_seconds']['wideband']:.0f} s of net speech"
            )
            for key, figures in result.items():
                if isinstance(figures, dict) and "audio_s_per_cpu_s" in figures:
                    print(
                        f"  {key:<18} {figures['audio_s_per_cpu_s']:7.1f} audio s / CPU s"
                        f"   {figures['audio_s_per_wall_s']:7.1f} audio s / wall s"
                    )


if __name__ == "__main__":
    main()
