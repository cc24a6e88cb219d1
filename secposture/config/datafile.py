"""Data files an agency or a province supplies (questionnaire, waivers, frameworks).

Each is TOML validated by a pydantic model; whatever is wrong reaches the user as one
``key: reason (file)`` line through :class:`~secposture.config.errors.ConfigError`, as a
bad agency config does, so the CLI turns it into exit code 2 in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from secposture.config.errors import ConfigError
from secposture.config.loading import config_error, read_toml

Model = TypeVar("Model", bound=BaseModel)


def load_model(
    path: Path, what: str, model: type[Model], context: dict[str, Any] | None = None
) -> Model:
    """Read ``path`` as TOML and validate it as ``model``; ``what`` names the file in errors."""
    try:
        data = read_toml(path)
    except ConfigError as exc:
        raise ConfigError(what, exc.reason, exc.source) from None
    return validate_model(data, model, str(path), context)


def validate_model(
    data: dict[str, Any], model: type[Model], where: str, context: dict[str, Any] | None = None
) -> Model:
    """Validate a mapping as ``model``, the first error as one ``key: reason`` line."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise config_error(exc, where) from None
