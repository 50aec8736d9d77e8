"""ECAPA-TDNN speaker embeddings from a SpeechBrain-layout model directory.

The directory is SpeechBrain's published layout (`speechbrain/spkrec-ecapa-voxceleb`), which is
also what `voiceauth train` writes: `hyperparams.yaml` (the architecture, read as data by
`EcapaHparams`), `embedding_model.ckpt` (a plain `state_dict` of `ECAPA_TDNN`) and
`mean_var_norm_emb.ckpt` (the global embedding mean). The pipeline is SpeechBrain's
`EncoderClassifier.encode_batch`: Fbank, per-utterance mean normalisation, ECAPA-TDNN, then the
global embedding normalisation, which centres embeddings on the training mean so that cosine
scores use the whole sphere. (SpeechBrain's own `verify_batch` skips that last step; a centred
embedding is what the yaml describes, and scoring here length-normalises afterwards anyway.)

Input is net speech at `sample_rate` (16 kHz for every model so far: the published one is
wideband, so callers resample 8 kHz telephone audio up before embedding).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from voiceauth.embeddings.base import Embedding, Vector
from voiceauth.embeddings.ecapa_hparams import (
    EMBEDDING_MODEL_FILE,
    EMBEDDING_NORM_FILE,
    HYPERPARAMS_FILE,
    EcapaHparams,
)
from voiceauth.errors import (
    AudioFormatError,
    InsufficientSpeech,
    ModelIntegrityError,
    ModelNotFound,
)

EMBEDDER_ID = "ecapa"
MIN_SPEECH_S = 0.5  # below half a second the attentive pooling has too few frames to be stable
VERSION_HEX = 12  # sha256 prefix: enough to tell fine-tuned weights apart, short in logs
REQUIRED_FILES = (HYPERPARAMS_FILE, EMBEDDING_MODEL_FILE, EMBEDDING_NORM_FILE)
HOW_TO_GET = (
    "run `voiceauth models fetch ecapa` on a machine with internet, "
    "or train one with `voiceauth train`, and put it in {dir}"
)


class EcapaEmbedder:
    """The `Embedder` protocol over an ECAPA-TDNN model directory.

    `embed_batch` is exact by default: only utterances of equal length share a forward pass
    (up to `batch_size`), so an embedding never depends on what it was batched with. With
    `pad=True` utterances are sorted by length and zero-padded with relative lengths
    (SpeechBrain's `wav_lens`), which is faster on a GPU but not exact: the convolutions near
    the end of a shorter utterance see the padding (with a trained model, cosine between its
    padded and single embedding measured 0.986 for 0.8 s among 0.8-6 s items, above 0.999
    from 2 s). On a CPU padding buys nothing (16 utterances of 0.8-6 s: 0.22 s padded,
    0.19 s one by one), hence the default.
    """

    def __init__(
        self, model_dir: Path, *, device: str = "cpu", batch_size: int = 16, pad: bool = False
    ) -> None:
        self._dir = Path(model_dir)
        for name in REQUIRED_FILES:
            _require(self._dir, name)
        self._hparams = EcapaHparams.load(self._dir / HYPERPARAMS_FILE)
        self._device = torch.device(device)
        self._batch_size = max(1, batch_size)
        self._pad = pad
        self._version = file_sha256(self._dir / EMBEDDING_MODEL_FILE)[:VERSION_HEX]
        self._features = self._hparams.build_features().to(self._device).eval()
        self._sentence_norm = self._hparams.build_sentence_norm().to(self._device).eval()
        self._model = self._hparams.build_model()
        load_state_dict(self._model, self._dir / EMBEDDING_MODEL_FILE)
        self._model.to(self._device).eval()
        self._embedding_norm = load_embedding_norm(
            self._hparams, self._dir / EMBEDDING_NORM_FILE, self._device
        )

    @property
    def embedder_id(self) -> str:
        return EMBEDDER_ID

    @property
    def version(self) -> str:
        """First 12 hex digits of the sha256 of `embedding_model.ckpt`."""
        return self._version

    @property
    def sample_rate(self) -> int:
        """16000 for the published model: the Fbank rate of the card."""
        return self._hparams.sample_rate

    @property
    def dimension(self) -> int:
        return self._hparams.lin_neurons

    @property
    def min_samples(self) -> int:
        return int(MIN_SPEECH_S * self.sample_rate)

    @property
    def hparams(self) -> EcapaHparams:
        """The architecture read from the model directory."""
        return self._hparams

    def embed(self, speech: Vector) -> Embedding:
        """One embedding of net speech `(n,)` float32 in [-1, 1] at `sample_rate`."""
        return self.embed_batch([speech])[0]

    def embed_batch(self, speech: list[Vector]) -> list[Embedding]:
        """Embeddings of several utterances, in the order given."""
        checked = [self._check(item) for item in speech]
        vectors: dict[int, Vector] = {}
        for group in self._groups([len(item) for item in checked]):
            for index, vector in zip(group, self._run([checked[i] for i in group]), strict=True):
                vectors[index] = vector
        return [
            Embedding(EMBEDDER_ID, self._version, vectors[i], len(checked[i]) / self.sample_rate)
            for i in range(len(checked))
        ]

    def _groups(self, lengths: list[int]) -> list[list[int]]:
        """Indices per forward pass: equal lengths only, or (pad) neighbours in length order."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        runs: list[list[int]] = []
        for index in order:
            last = runs[-1] if runs else None
            fits = last is not None and len(last) < self._batch_size
            if last is not None and fits and (self._pad or lengths[last[0]] == lengths[index]):
                last.append(index)
            else:
                runs.append([index])
        return runs

    def _check(self, speech: Vector) -> Vector:
        samples = np.asarray(speech, dtype=np.float32)
        if samples.ndim != 1:
            raise AudioFormatError(f"ecapa: speech must be (n,) mono, got shape {samples.shape}")
        if len(samples) < self.min_samples:
            raise InsufficientSpeech(len(samples) / self.sample_rate, MIN_SPEECH_S)
        if not np.isfinite(samples).all():
            raise AudioFormatError("ecapa: speech contains NaN or infinite samples")
        return samples

    def _run(self, batch: list[Vector]) -> list[Vector]:
        """Embed one padded batch: (batch, longest) waveforms with relative lengths."""
        longest = max(len(item) for item in batch)
        wavs = torch.zeros(len(batch), longest)
        for row, item in enumerate(batch):
            wavs[row, : len(item)] = torch.from_numpy(item)
        lengths = torch.tensor([len(item) / longest for item in batch])
        with torch.inference_mode():
            wavs, lengths = wavs.to(self._device), lengths.to(self._device)
            feats = self._sentence_norm(self._features(wavs), lengths)
            embeddings = self._model(feats, lengths)
            embeddings = self._embedding_norm(embeddings, torch.ones_like(lengths))
        out = embeddings.squeeze(1).float().cpu().numpy()
        if not np.isfinite(out).all():
            raise ModelIntegrityError(f"ecapa model {self._dir} produced a non-finite embedding")
        return [row.astype(np.float32) for row in out]


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (checkpoints are tens of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_state_dict(model: torch.nn.Module, path: Path) -> None:
    """Load a plain `state_dict` (tensors only, no pickled code) into `model`, strictly.

    A checkpoint of another architecture names its first differences, so a card that does not
    match its weights fails at load, not with odd scores later.
    """
    state = _load_tensors(path)
    expected = model.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    wrong = [
        f"{key} {tuple(state[key].shape)} != {tuple(value.shape)}"
        for key, value in expected.items()
        if key in state and state[key].shape != value.shape
    ]
    if missing or unexpected or wrong:
        details = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing[:3])}" if missing else "",
                f"unexpected {', '.join(unexpected[:3])}" if unexpected else "",
                f"shape {', '.join(wrong[:3])}" if wrong else "",
            )
            if part
        )
        raise ModelIntegrityError(f"{path} does not match its hyperparams.yaml: {details}")
    model.load_state_dict(state, strict=True)


def load_embedding_norm(hparams: EcapaHparams, path: Path, device: torch.device) -> torch.nn.Module:
    """The global embedding normalisation with the statistics SpeechBrain's `_save` wrote.

    The file is a dict `count`, `glob_mean` (dimension,), `glob_std` (dimension,); older
    SpeechBrain versions (the published model) add empty per-speaker dicts, ignored here.
    """
    stats = _torch_load(path)
    if not isinstance(stats, dict) or not {"count", "glob_mean", "glob_std"} <= set(stats):
        raise ModelIntegrityError(f"{path}: expected count, glob_mean and glob_std")
    shape = (hparams.lin_neurons,)
    for key in ("glob_mean", "glob_std"):
        value = stats[key]
        if not isinstance(value, torch.Tensor) or tuple(value.shape) != shape:
            raise ModelIntegrityError(f"{path}: {key} must be a tensor of shape {shape}")
        if not torch.isfinite(value).all():
            raise ModelIntegrityError(f"{path}: {key} is not finite")
    stats_holder = hparams.build_embedding_norm()
    stats_holder._load_statistics_dict(
        {
            "count": int(stats["count"]),
            "glob_mean": stats["glob_mean"],
            "glob_std": stats["glob_std"],
        }
    )
    norm: torch.nn.Module = stats_holder.to(device)
    return norm.eval()


def _torch_load(path: Path) -> object:
    """`torch.load` restricted to tensors and plain containers (no pickled code runs)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises UnpicklingError, RuntimeError, EOFError...
        raise ModelIntegrityError(f"{path}: not a readable tensor checkpoint ({error})") from error


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    state = _torch_load(path)
    if not isinstance(state, dict) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in state.items()
    ):
        raise ModelIntegrityError(f"{path}: expected a state_dict of named tensors")
    return state


def _require(model_dir: Path, name: str) -> None:
    if not model_dir.is_dir():
        raise ModelNotFound(
            f"ECAPA model directory {model_dir} not found: " + HOW_TO_GET.format(dir=model_dir)
        )
    if not (model_dir / name).is_file():
        raise ModelNotFound(
            f"ECAPA model file {name} missing in {model_dir}: " + HOW_TO_GET.format(dir=model_dir)
        )
