"""The architecture card of an ECAPA-TDNN model directory (SpeechBrain's `hyperparams.yaml`).

Inference and training both build their modules from this card, so a directory this project
trains and SpeechBrain's published one are read by the same code. The card is read as data
(`hyperyaml.Card`, no code runs): each of the four ECAPA modules must name the SpeechBrain class
expected, and every argument must be one modelled here, or the card is refused with
`ConfigError`. A key left out of the file takes SpeechBrain's own default for that class, as
SpeechBrain would, so the numbers used are exactly those the file says.

`EcapaHparams.to_yaml()` writes the card back in the published layout, so directories this
project trains load in SpeechBrain's `EncoderClassifier` too (override `pretrained_path`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from speechbrain.lobes.features import Fbank
from speechbrain.lobes.models.ECAPA_TDNN import ECAPA_TDNN, Classifier
from speechbrain.processing.features import InputNormalization

from voiceauth.embeddings.hyperyaml import Card
from voiceauth.errors import ConfigError

HYPERPARAMS_FILE = "hyperparams.yaml"
EMBEDDING_MODEL_FILE = "embedding_model.ckpt"
EMBEDDING_NORM_FILE = "mean_var_norm_emb.ckpt"
CLASSIFIER_FILE = "classifier.ckpt"
LABEL_ENCODER_FILE = "label_encoder.txt"

FBANK_CLASS = "speechbrain.lobes.features.Fbank"
NORM_CLASS = "speechbrain.processing.features.InputNormalization"
ECAPA_CLASS = "speechbrain.lobes.models.ECAPA_TDNN.ECAPA_TDNN"
CLASSIFIER_CLASS = "speechbrain.lobes.models.ECAPA_TDNN.Classifier"

# Arguments understood per class; anything else changes the computation in a way this module
# does not model, so it is refused rather than silently ignored.
_FBANK_KEYS = frozenset(
    {"n_mels", "sample_rate", "n_fft", "win_length", "hop_length", "f_min", "f_max"}
)
_NORM_KEYS = frozenset({"norm_type", "std_norm", "mean_norm", "update_until_epoch"})
_ECAPA_KEYS = frozenset(
    {
        "input_size",
        "channels",
        "kernel_sizes",
        "dilations",
        "attention_channels",
        "lin_neurons",
        "res2net_scale",
        "se_channels",
        "global_context",
        "groups",
    }
)
_CLASSIFIER_KEYS = frozenset({"input_size", "out_neurons"})


@dataclass(frozen=True, slots=True)
class EcapaHparams:
    """Numbers that define an ECAPA-TDNN embedder; defaults are SpeechBrain's class defaults.

    Features: Fbank of `n_mels` log-mel bands at `sample_rate` Hz, windows of `win_length` ms
    every `hop_length` ms, mean-normalised per utterance (`sentence_std_norm`: also divided by
    the standard deviation). Embeddings: `lin_neurons` wide, then a global mean (and std when
    `embedding_std_norm`) normalisation learned on training embeddings. `out_neurons` is the
    classifier's speaker count (None when the directory has no classifier).
    """

    n_mels: int = 40
    sample_rate: int = 16000
    n_fft: int = 400
    win_length: float = 25.0
    hop_length: float = 10.0
    f_min: float = 0.0
    f_max: float | None = None
    sentence_std_norm: bool = True
    channels: tuple[int, ...] = (512, 512, 512, 512, 1536)
    kernel_sizes: tuple[int, ...] = (5, 3, 3, 3, 1)
    dilations: tuple[int, ...] = (1, 2, 3, 4, 1)
    attention_channels: int = 128
    lin_neurons: int = 192
    res2net_scale: int = 8
    se_channels: int = 128
    global_context: bool = True
    groups: tuple[int, ...] = field(default=(1, 1, 1, 1, 1))
    embedding_std_norm: bool = True
    out_neurons: int | None = None

    def __post_init__(self) -> None:
        layers = len(self.channels)
        for name in ("kernel_sizes", "dilations", "groups"):
            if len(getattr(self, name)) != layers:
                raise ConfigError(
                    f"ECAPA hparams: {name} has {len(getattr(self, name))} entries, "
                    f"channels has {layers}"
                )
        if layers < 3:
            raise ConfigError(f"ECAPA hparams: channels needs at least 3 layers, got {layers}")
        if any(c % self.res2net_scale for c in self.channels[1:-1]):
            raise ConfigError(
                f"ECAPA hparams: res2net channels {list(self.channels[1:-1])} must be "
                f"multiples of res2net_scale {self.res2net_scale}"
            )

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a SpeechBrain ECAPA `hyperparams.yaml` as data (see the module docstring)."""
        card = Card.load(path)
        source = card.source
        fbank = card.module_args("compute_features", FBANK_CLASS, _FBANK_KEYS)
        sentence = card.module_args("mean_var_norm", NORM_CLASS, _NORM_KEYS)
        ecapa = card.module_args("embedding_model", ECAPA_CLASS, _ECAPA_KEYS)
        emb_norm = card.module_args("mean_var_norm_emb", NORM_CLASS, _NORM_KEYS)
        classifier = (
            card.module_args("classifier", CLASSIFIER_CLASS, _CLASSIFIER_KEYS)
            if "classifier" in card
            else None
        )
        _require_norm(sentence, "sentence", "mean_var_norm", source)
        _require_norm(emb_norm, "global", "mean_var_norm_emb", source)
        default = cls()
        n_mels = _int(fbank.get("n_mels", default.n_mels), "n_mels", source)
        if _int(ecapa.get("input_size", n_mels), "input_size", source) != n_mels:
            raise ConfigError(f"{source}: embedding_model input_size != n_mels {n_mels}")
        lin_neurons = _int(ecapa.get("lin_neurons", default.lin_neurons), "lin_neurons", source)
        out_neurons = None
        if classifier is not None:
            out_neurons = _int(classifier.get("out_neurons", 1211), "out_neurons", source)
            if _int(classifier.get("input_size", lin_neurons), "input_size", source) != (
                lin_neurons
            ):
                raise ConfigError(f"{source}: classifier input_size != lin_neurons")

        def number(args: dict[str, Any], name: str) -> float:
            value = args.get(name, getattr(default, name))
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{source}: {name} must be a number, got {value!r}")
            return float(value)

        def ints(args: dict[str, Any], name: str) -> tuple[int, ...]:
            return _int_tuple(args.get(name, getattr(default, name)), name, source)

        def integer(args: dict[str, Any], name: str) -> int:
            return _int(args.get(name, getattr(default, name)), name, source)

        try:
            return cls(
                n_mels=n_mels,
                sample_rate=integer(fbank, "sample_rate"),
                n_fft=integer(fbank, "n_fft"),
                win_length=number(fbank, "win_length"),
                hop_length=number(fbank, "hop_length"),
                f_min=number(fbank, "f_min"),
                f_max=None if fbank.get("f_max") is None else number(fbank, "f_max"),
                sentence_std_norm=_bool(sentence.get("std_norm", True), "std_norm", source),
                channels=ints(ecapa, "channels"),
                kernel_sizes=ints(ecapa, "kernel_sizes"),
                dilations=ints(ecapa, "dilations"),
                attention_channels=integer(ecapa, "attention_channels"),
                lin_neurons=lin_neurons,
                res2net_scale=integer(ecapa, "res2net_scale"),
                se_channels=integer(ecapa, "se_channels"),
                global_context=_bool(
                    ecapa.get("global_context", default.global_context), "global_context", source
                ),
                groups=ints(ecapa, "groups"),
                embedding_std_norm=_bool(emb_norm.get("std_norm", True), "std_norm", source),
                out_neurons=out_neurons,
            )
        except ConfigError as error:
            if str(error).startswith(str(source)):
                raise
            raise ConfigError(f"{source}: {error}") from error

    def to_yaml(self, *, title: str = "ECAPA-TDNN speaker embedder") -> str:
        """The card in SpeechBrain's published layout, loadable by both this module and it."""
        fbank = ["    n_mels: !ref <n_mels>"]
        defaults = EcapaHparams()
        for name in ("sample_rate", "n_fft", "win_length", "hop_length", "f_min", "f_max"):
            value = getattr(self, name)
            if value != getattr(defaults, name):
                fbank.append(f"    {name}: {_scalar(value)}")
        ecapa = [
            "    input_size: !ref <n_mels>",
            f"    channels: {_flow(self.channels)}",
            f"    kernel_sizes: {_flow(self.kernel_sizes)}",
            f"    dilations: {_flow(self.dilations)}",
            f"    attention_channels: {self.attention_channels}",
            f"    lin_neurons: {self.lin_neurons}",
        ]
        for name in ("res2net_scale", "se_channels", "global_context", "groups"):
            value = getattr(self, name)
            if value != getattr(defaults, name):
                ecapa.append(f"    {name}: {_scalar(value)}")
        lines = [
            "# " + "#" * 76,
            f"# Model: {title}",
            "# Written by voiceauth; SpeechBrain's EncoderClassifier loads it with",
            "# overrides={'pretrained_path': <this directory>}.",
            "# " + "#" * 76,
            "",
            "# Feature parameters",
            f"n_mels: {self.n_mels}",
            "",
            "pretrained_path: .",
            "",
        ]
        if self.out_neurons is not None:
            lines += ["# Output parameters", f"out_n_neurons: {self.out_neurons}", ""]
        lines += [
            "compute_features: !new:" + FBANK_CLASS,
            *fbank,
            "",
            "mean_var_norm: !new:" + NORM_CLASS,
            "    norm_type: sentence",
            f"    std_norm: {_scalar(self.sentence_std_norm)}",
            "",
            "embedding_model: !new:" + ECAPA_CLASS,
            *ecapa,
            "",
        ]
        modules = ["compute_features", "mean_var_norm", "embedding_model", "mean_var_norm_emb"]
        loadables = ["embedding_model", "mean_var_norm_emb"]
        if self.out_neurons is not None:
            lines += [
                "classifier: !new:" + CLASSIFIER_CLASS,
                f"    input_size: {self.lin_neurons}",
                "    out_neurons: !ref <out_n_neurons>",
                "",
            ]
            modules.append("classifier")
            loadables += ["classifier", "label_encoder"]
        lines += [
            "mean_var_norm_emb: !new:" + NORM_CLASS,
            "    norm_type: global",
            f"    std_norm: {_scalar(self.embedding_std_norm)}",
            "",
            "modules:",
            *(f"    {name}: !ref <{name}>" for name in modules),
            "",
            "label_encoder: !new:speechbrain.dataio.encoder.CategoricalEncoder",
            "",
            "pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer",
            "    loadables:",
            *(f"        {name}: !ref <{name}>" for name in loadables),
            "    paths:",
            *(f"        {name}: !ref <pretrained_path>/{_FILE_OF[name]}" for name in loadables),
            "",
        ]
        return "\n".join(lines)

    def build_features(self) -> Fbank:
        """The Fbank front end (80 log-mels for the published model)."""
        return Fbank(
            n_mels=self.n_mels,
            sample_rate=self.sample_rate,
            n_fft=self.n_fft,
            win_length=self.win_length,
            hop_length=self.hop_length,
            f_min=self.f_min,
            f_max=self.f_max,
        )

    def build_sentence_norm(self) -> InputNormalization:
        """Per-utterance feature normalisation, which removes a stationary channel response."""
        return InputNormalization(norm_type="sentence", std_norm=self.sentence_std_norm)

    def build_model(self) -> ECAPA_TDNN:
        """The ECAPA-TDNN network with randomly initialised weights."""
        return ECAPA_TDNN(
            self.n_mels,
            lin_neurons=self.lin_neurons,
            channels=list(self.channels),
            kernel_sizes=list(self.kernel_sizes),
            dilations=list(self.dilations),
            attention_channels=self.attention_channels,
            res2net_scale=self.res2net_scale,
            se_channels=self.se_channels,
            global_context=self.global_context,
            groups=list(self.groups),
        )

    def build_embedding_norm(self) -> InputNormalization:
        """Global embedding normalisation; its statistics come from `mean_var_norm_emb.ckpt`."""
        return InputNormalization(norm_type="global", std_norm=self.embedding_std_norm)

    def build_classifier(self, speakers: int) -> Classifier:
        """The cosine classifier head (one row per training speaker) used by AAM-softmax."""
        return Classifier(self.lin_neurons, out_neurons=speakers)


_FILE_OF = {
    "embedding_model": EMBEDDING_MODEL_FILE,
    "mean_var_norm_emb": EMBEDDING_NORM_FILE,
    "classifier": CLASSIFIER_FILE,
    "label_encoder": LABEL_ENCODER_FILE,
}


def _require_norm(args: dict[str, Any], norm_type: str, key: str, source: Path) -> None:
    if args.get("norm_type", "global") != norm_type:
        raise ConfigError(f"{source}: `{key}` must have norm_type {norm_type}")
    if args.get("mean_norm", True) is not True:
        raise ConfigError(f"{source}: `{key}` must have mean_norm True")


def _int(value: Any, name: str, source: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{source}: {name} must be an integer, got {value!r}")
    return value


def _bool(value: Any, name: str, source: Path) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{source}: {name} must be True or False, got {value!r}")
    return value


def _int_tuple(value: Any, name: str, source: Path) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{source}: {name} must be a list of integers, got {value!r}")
    return tuple(_int(item, name, source) for item in value)


def _flow(values: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, tuple):
        return _flow(value)
    return str(value)
