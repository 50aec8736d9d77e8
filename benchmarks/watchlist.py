"""1:N watchlist search over N voiceprints: exact flat inner product vs an approximate index.

Every call is searched against the whole fraud watchlist, so its cost per query must stay small
as the list grows. Prints, for N random 256-dim unit vectors (GE2E's dimension) and queries
that are noisy copies of listed vectors (a fraudster calling again): build time, ms per query
(one query at a time, as calls arrive), recall@1 of the approximate index against exact search,
and the process's resident memory after each build. Figures, not assertions.

    python benchmarks/watchlist.py [--n 1000000] [--queries 200] [--threads 1] [--index hnsw]
"""

from __future__ import annotations

import argparse
import platform
import time

import faiss
import numpy as np
import psutil

DIMENSION = 256


def rss_mib() -> float:
    return psutil.Process().memory_info().rss / 2**20


def unit(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x / np.linalg.norm(x, axis=1, keepdims=True), dtype=np.float32)


def approximate(kind: str, data: np.ndarray) -> faiss.Index:
    """HNSW (graph, no training) or IVF-flat (k-means cells, probes sqrt-ish of them)."""
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(DIMENSION, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 40
        index.add(data)
        index.hnsw.efSearch = 64
        return index
    cells = max(int(4 * np.sqrt(len(data))), 1)
    quantiser = faiss.IndexFlatIP(DIMENSION)
    index = faiss.IndexIVFFlat(quantiser, DIMENSION, cells, faiss.METRIC_INNER_PRODUCT)
    index.train(data[np.random.default_rng(1).choice(len(data), min(len(data), 50 * cells))])
    index.add(data)
    index.nprobe = max(cells // 64, 8)
    return index


def per_query_ms(index: faiss.Index, queries: np.ndarray) -> tuple[float, np.ndarray]:
    labels = np.empty(len(queries), dtype=np.int64)
    start = time.perf_counter()
    for i, query in enumerate(queries):
        _, found = index.search(query[None], 1)
        labels[i] = found[0, 0]
    return (time.perf_counter() - start) * 1000 / len(queries), labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--index", choices=("hnsw", "ivf"), default="hnsw")
    parser.add_argument("--noise", type=float, default=0.05, help="query noise per dimension")
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"machine: {platform.machine()}, {psutil.cpu_count()} CPUs, faiss {faiss.__version__}")
    print(f"N={args.n:,} dim={DIMENSION} queries={args.queries} threads={args.threads}")
    base_rss = rss_mib()
    data = np.empty((args.n, DIMENSION), dtype=np.float32)
    for start in range(0, args.n, 100_000):
        stop = min(start + 100_000, args.n)
        data[start:stop] = unit(rng.standard_normal((stop - start, DIMENSION)))
    targets = rng.choice(args.n, args.queries, replace=False)
    noise = rng.standard_normal((args.queries, DIMENSION)) * args.noise
    queries = unit(data[targets] + noise)
    print(f"vectors: {data.nbytes / 2**20:.0f} MiB, RSS {rss_mib() - base_rss:.0f} MiB over start")

    start = time.perf_counter()
    exact = faiss.IndexIDMap2(faiss.IndexFlatIP(DIMENSION))
    exact.add_with_ids(data, np.arange(args.n, dtype=np.int64))
    build = time.perf_counter() - start
    ms, exact_labels = per_query_ms(exact, queries)
    print(
        f"exact flat IP:  build {build:6.2f} s  {ms:8.3f} ms/query  "
        f"top-1 = target {np.mean(exact_labels == targets):.3f}  RSS {rss_mib():.0f} MiB"
    )
    del exact

    start = time.perf_counter()
    approx = approximate(args.index, data)
    build = time.perf_counter() - start
    ms, approx_labels = per_query_ms(approx, queries)
    print(
        f"{args.index:<5} approx:   build {build:6.2f} s  {ms:8.3f} ms/query  "
        f"recall@1 vs exact {np.mean(approx_labels == exact_labels):.3f}  RSS {rss_mib():.0f} MiB"
    )


if __name__ == "__main__":
    main()
