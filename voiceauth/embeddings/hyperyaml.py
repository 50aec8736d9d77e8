"""Read a SpeechBrain HyperPyYAML file as data, without running it.

HyperPyYAML resolves `!new:` / `!name:` / `!apply:` tags by importing and calling whatever they
name (`!apply:os.system` included), so loading a downloaded model card with it runs code chosen
by the file. Here the tags become plain records (`Tagged`), `!ref <key>` is resolved only as a
reference to a top-level key, and a caller asks for one module's keyword arguments after
checking the class it names against the one expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from voiceauth.errors import ConfigError

_REF = re.compile(r"^<(\w+)>$")
_MAX_REF_DEPTH = 16


@dataclass(frozen=True, slots=True)
class Tagged:
    """A `!new:` / `!name:` / `!apply:` ... node: kind (`new`), target (dotted class), args."""

    kind: str
    target: str
    args: Any


@dataclass(frozen=True, slots=True)
class Ref:
    """A `!ref` / `!copy` node, resolved against the document's top-level keys on demand."""

    expression: str


@dataclass(frozen=True, slots=True)
class Card:
    """A parsed HyperPyYAML document and the file it came from (for error messages)."""

    source: Path
    document: dict[str, Any]

    @classmethod
    def load(cls, path: str | Path) -> Card:
        """Parse `path`; invalid YAML or a non-mapping document raises ConfigError."""
        source = Path(path)
        try:
            document = yaml.load(source.read_text(encoding="utf-8"), Loader=_card_loader())
        except yaml.YAMLError as error:
            raise ConfigError(f"{source}: not valid YAML ({error})") from error
        if not isinstance(document, dict):
            raise ConfigError(f"{source}: expected a mapping at the top level")
        return cls(source, document)

    def __contains__(self, key: str) -> bool:
        return key in self.document

    def module_args(self, key: str, target: str, allowed: frozenset[str]) -> dict[str, Any]:
        """Resolved keyword arguments of top-level `key`, which must be `!new:<target>`.

        An argument outside `allowed` raises ConfigError naming it: it would change the
        computation in a way the caller does not model, so it is refused, not ignored.
        """
        if key not in self.document:
            raise ConfigError(f"{self.source}: no `{key}` module")
        node = self._follow(self.document[key], 0)
        if not isinstance(node, Tagged) or node.kind != "new" or node.target != target:
            raise ConfigError(f"{self.source}: `{key}` must be !new:{target}")
        if node.args is None or node.args == "":
            return {}
        if not isinstance(node.args, dict):
            raise ConfigError(f"{self.source}: `{key}` arguments must be a mapping")
        unknown = sorted(set(node.args) - allowed)
        if unknown:
            raise ConfigError(
                f"{self.source}: `{key}` argument(s) {', '.join(unknown)} not supported "
                f"(supported: {', '.join(sorted(allowed))})"
            )
        return {name: self._value(value, 0) for name, value in node.args.items()}

    def _follow(self, value: Any, depth: int) -> Any:
        """Dereference `!ref <key>` chains; other values are returned as they are."""
        while isinstance(value, Ref):
            if depth > _MAX_REF_DEPTH:
                raise ConfigError(f"{self.source}: !ref chain too deep (a cycle?)")
            match = _REF.match(value.expression.strip())
            if match is None or match.group(1) not in self.document:
                raise ConfigError(
                    f"{self.source}: unsupported reference {value.expression!r} "
                    "(only `!ref <top_level_key>` is read)"
                )
            value = self.document[match.group(1)]
            depth += 1
        return value

    def _value(self, value: Any, depth: int) -> Any:
        """A plain value (number, bool, string, list): references resolved, tags refused."""
        value = self._follow(value, depth)
        if isinstance(value, list | tuple):
            return [self._value(item, depth + 1) for item in value]
        if isinstance(value, Tagged):
            raise ConfigError(
                f"{self.source}: a !{value.kind}:{value.target} node where a value belongs"
            )
        return value


def _card_loader() -> type[yaml.SafeLoader]:
    """A SafeLoader subclass that keeps HyperPyYAML tags as records instead of calling them.

    Built per call so that no loader class is modified at import time.
    """

    loader_class: type[yaml.SafeLoader] = type("CardLoader", (yaml.SafeLoader,), {})

    def tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Tagged:
        kind, _, target = node.tag[1:].partition(":")
        args: Any
        if isinstance(node, yaml.MappingNode):
            args = loader.construct_mapping(node, deep=True)
        elif isinstance(node, yaml.SequenceNode):
            args = loader.construct_sequence(node, deep=True)
        elif isinstance(node, yaml.ScalarNode):
            args = loader.construct_scalar(node)
        else:
            args = None
        return Tagged(kind, target, args)

    def reference(loader: yaml.SafeLoader, node: yaml.Node) -> Ref:
        if not isinstance(node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "!ref needs a scalar", node.start_mark
            )
        return Ref(str(loader.construct_scalar(node)))

    def as_tuple(loader: yaml.SafeLoader, node: yaml.Node) -> tuple[Any, ...]:
        if not isinstance(node, yaml.SequenceNode):
            raise yaml.constructor.ConstructorError(
                None, None, "!tuple needs a sequence", node.start_mark
            )
        return tuple(loader.construct_sequence(node, deep=True))

    for prefix in ("!new:", "!name:", "!apply:", "!module:", "!include:"):
        loader_class.add_multi_constructor(prefix, tagged)
    loader_class.add_constructor("!ref", reference)
    loader_class.add_constructor("!copy", reference)
    loader_class.add_constructor("!tuple", as_tuple)
    loader_class.add_constructor("!PLACEHOLDER", reference)
    return loader_class
