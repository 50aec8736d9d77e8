"""The ECAPA card: read as data (no code runs), SpeechBrain defaults, round trip, refusals."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hyperpyyaml import load_hyperpyyaml

from voiceauth.embeddings.ecapa_hparams import EcapaHparams
from voiceauth.embeddings.hyperyaml import Card
from voiceauth.errors import ConfigError

PUBLISHED_YAML = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "models"
    / "spkrec-ecapa-voxceleb"
    / "hyperparams.yaml"
).resolve()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hyperparams.yaml"
    path.write_text(text)
    return path


def test_published_card_reads_as_the_readme_says() -> None:
    hparams = EcapaHparams.load(PUBLISHED_YAML)
    assert hparams.n_mels == 80
    assert hparams.channels == (1024, 1024, 1024, 1024, 3072)
    assert hparams.kernel_sizes == (5, 3, 3, 3, 1)
    assert hparams.dilations == (1, 2, 3, 4, 1)
    assert (hparams.attention_channels, hparams.lin_neurons) == (128, 192)
    assert hparams.sentence_std_norm is False
    assert hparams.embedding_std_norm is False
    assert hparams.out_neurons == 7205
    assert hparams.sample_rate == 16000


def test_written_card_round_trips_and_speechbrain_reads_it(tmp_path: Path) -> None:
    small = replace(
        EcapaHparams.load(PUBLISHED_YAML), channels=(256, 256, 256, 256, 768), out_neurons=12
    )
    text = small.to_yaml()
    assert EcapaHparams.load(write(tmp_path, text)) == small
    modules = load_hyperpyyaml(text)
    state = modules["embedding_model"].state_dict()
    assert tuple(state["blocks.0.conv.conv.weight"].shape) == (256, 80, 5)
    assert modules["classifier"].weight.shape == (12, 192)


def test_left_out_keys_take_speechbrain_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "compute_features: !new:speechbrain.lobes.features.Fbank\n"
        "mean_var_norm: !new:speechbrain.processing.features.InputNormalization\n"
        "    norm_type: sentence\n"
        "embedding_model: !new:speechbrain.lobes.models.ECAPA_TDNN.ECAPA_TDNN\n"
        "    input_size: 40\n"
        "mean_var_norm_emb: !new:speechbrain.processing.features.InputNormalization\n",
    )
    hparams = EcapaHparams.load(path)
    assert hparams.n_mels == 40  # Fbank's default
    assert hparams.channels == (512, 512, 512, 512, 1536)  # ECAPA_TDNN's default
    assert hparams.sentence_std_norm is True  # InputNormalization's default
    assert hparams.out_neurons is None


def test_code_in_a_card_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = PUBLISHED_YAML.read_text() + f"\nboom: !apply:pathlib.Path.touch [{str(marker)!r}]\n"
    hparams = EcapaHparams.load(write(tmp_path, text))
    assert hparams.n_mels == 80
    assert not marker.exists()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    lin_neurons: 192",
            "    lin_neurons: 192\n    dropout: 0.1",
            "`embedding_model` argument\\(s\\) dropout not supported",
        ),
        (
            "embedding_model: !new:speechbrain.lobes.models.ECAPA_TDNN.ECAPA_TDNN",
            "embedding_model: !apply:os.system",
            "`embedding_model` must be !new:speechbrain.lobes.models.ECAPA_TDNN.ECAPA_TDNN",
        ),
        (
            "channels: [1024, 1024, 1024, 1024, 3072]",
            "channels: [1024, 1024, 1024, 3072]",
            "kernel_sizes has 5 entries, channels has 4",
        ),
        ("norm_type: sentence", "norm_type: batch", "`mean_var_norm` must have norm_type sentence"),
        ("input_size: !ref <n_mels>", "input_size: !ref <n_mels> * 2", "unsupported reference"),
        ("attention_channels: 128", "attention_channels: 12.5", "attention_channels must be an"),
    ],
)
def test_cards_outside_the_model_are_refused(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = PUBLISHED_YAML.read_text()
    assert old in text
    with pytest.raises(ConfigError, match=message):
        EcapaHparams.load(write(tmp_path, text.replace(old, new)))


def test_broken_yaml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        Card.load(write(tmp_path, "a: [1, 2\n"))
    with pytest.raises(ConfigError, match="expected a mapping"):
        Card.load(write(tmp_path, "- 1\n- 2\n"))
    with pytest.raises(ConfigError, match="no `compute_features` module"):
        EcapaHparams.load(write(tmp_path, "n_mels: 80\n"))
