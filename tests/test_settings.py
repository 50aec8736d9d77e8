from pathlib import Path

import pytest

from voiceauth.errors import ConfigError
from voiceauth.settings import load_settings


def test_defaults_and_environment() -> None:
    settings = load_settings({"VOICEAUTH_HOME": "/srv/va", "VOICEAUTH_EMBEDDER": "ge2e"})
    assert settings.embedder == "ge2e"
    assert settings.ecapa_model_dir == Path("/srv/va/models/spkrec-ecapa-voxceleb")
    assert load_settings({"VOICEAUTH_ECAPA_DIR": "/m"}).ecapa_model_dir == Path("/m")


def test_unknown_key_is_named() -> None:
    with pytest.raises(ConfigError, match="unknown setting.*VOICEAUTH_EMBEDER"):
        load_settings({"VOICEAUTH_EMBEDER": "ge2e"})


def test_bad_value_is_refused() -> None:
    with pytest.raises(ConfigError, match="invalid setting"):
        load_settings({"VOICEAUTH_EMBEDDER": "xvector"})
