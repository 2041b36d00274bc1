"""Reading reportkit's YAML files (params, source mappings, plans) the same way.

One home for what every YAML loader needs:

* :func:`read_yaml_mapping` reads a file into a ``dict`` and turns a missing
  file, undecodable bytes, invalid YAML (including impossible bare dates such
  as ``2025-11-31``, which the YAML parser itself rejects) and a top level that
  is not a mapping into the caller's :class:`~reportkit.core.errors.InputError`
  subclass, naming the file.
* :func:`format_validation_errors` turns a pydantic ``ValidationError`` into one
  line per problem: ``file: key 'a.b': what is wrong (got value)``; unknown keys
  get a did-you-mean and the allowed keys of the model they sit in (nested
  models, lists and ``{name: Model}`` dicts are followed); a value outside a
  ``Literal`` gets the allowed set.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any, Callable

import yaml
from pydantic import BaseModel, ValidationError

from .errors import InputError, did_you_mean

__all__ = ["read_yaml_mapping", "format_validation_errors", "model_of"]


def read_yaml_mapping(
    path: str | Path,
    error: type[InputError],
    *,
    what: str,
    missing_hint: str = "check the path",
    empty_ok: bool = False,
    node: bool = False,
) -> Any:
    """Read a YAML file whose top level must be a mapping.

    Parameters
    ----------
    path : str or Path
    error : InputError subclass
        Raised for every problem (``ParamsError``, ``MappingError``, ``PlanError``).
    what : str
        What the file is, for the missing-file message (``"params file"``).
    missing_hint : str
        The fix shown when the file does not exist.
    empty_ok : bool
        An empty file (or only comments) gives ``{}`` instead of an error.
    node : bool
        Also return the composed YAML node tree (to tell how YAML read a scalar):
        the result is then ``(mapping, node)``.

    Raises
    ------
    InputError
        Of class ``error``: missing file, not UTF-8, not YAML, not a mapping.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{what} {str(path)!r} does not exist", hint=missing_hint) from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except IsADirectoryError:
        raise error(f"{what} {str(path)!r} is a folder, not a file", hint=missing_hint) from None
    try:
        raw = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader) if node else None
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from None
    except ValueError as exc:
        # YAML turns bare dates into dates itself: 2025-11-31 fails inside the parser
        raise error(
            f"{path}: a value is not a valid date: {exc}",
            hint="write dates as real calendar dates in YYYY-MM-DD form, e.g. 2025-11-30",
        ) from None
    if raw is None and empty_ok:
        raw = {}
    if not isinstance(raw, dict):
        raise error(f"{path}: expected a mapping of keys to values, got {type(raw).__name__}")
    return (raw, root) if node else raw


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``annotation`` (``Rule | None`` -> ``Rule``, ``list[Tier]`` -> ``Tier``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = model_of(arg)
        if found is not None:
            return found
    return None


def _model_names(root: type[BaseModel]) -> set[str]:
    """Class names of every model reachable from ``root`` (pydantic puts them in error locations)."""
    names: set[str] = set()
    todo = [root]
    while todo:
        m = todo.pop()
        if m.__name__ in names:
            continue
        names.add(m.__name__)
        for f in m.model_fields.values():
            sub = model_of(f.annotation)
            if sub is not None:
                todo.append(sub)
    return names


def _literal_values(err: dict) -> list[str]:
    expected = (err.get("ctx") or {}).get("expected", "")
    return re.findall(r"'([^']*)'", expected)


def _field_keys(model: type[BaseModel], hidden: tuple[str, ...]) -> list[str]:
    """The keys a user writes for ``model``: each field's alias when it has one."""
    return [f.alias or name for name, f in model.model_fields.items() if name not in hidden]


def _field(model: type[BaseModel], key: str) -> Any:
    f = model.model_fields.get(key)
    if f is None:  # written under its alias (``from:`` for ``lower``)
        f = next((x for x in model.model_fields.values() if x.alias == key), None)
    return f


def format_validation_errors(
    exc: ValidationError,
    file: str,
    root: type[BaseModel],
    *,
    hidden: tuple[str, ...] = ("base_dir",),
    origin: Callable[[tuple[str, ...]], str | None] | None = None,
    note: Callable[[dict], str] | None = None,
) -> list[str]:
    """One message per problem of ``exc``, naming ``file``, the key path and the value.

    Parameters
    ----------
    exc : pydantic.ValidationError
    file : str
        Shown at the start of each line.
    root : pydantic model class
        The model that was validated (to find the allowed keys of nested models).
    hidden : tuple of str
        Field names never offered as allowed keys (set by loaders, not users).
    origin : callable, optional
        ``origin(key_path)`` returns where a key came from when it was not the file
        (e.g. ``"command line (-p period=...)"``), or ``None``.
    note : callable, optional
        ``note(error)`` returns text appended to a bad-value message (e.g. how YAML
        read an unquoted value).
    """
    skip = _model_names(root) | {"str", "list", "dict", "int", "float", "bool"}
    lines: list[str] = []
    for err in exc.errors():
        # pydantic adds union branch names to locations (e.g. 'Source', 'list[Source]'); drop them
        clean = [str(p) for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in skip))]
        where = ".".join(clean) or "(top level)"
        src = (origin(tuple(clean)) if origin else None) or file
        if err["type"] == "extra_forbidden":
            parent: Any = root
            dict_key_next = False
            for part in clean[:-1]:
                if dict_key_next:  # a key of a {name: Model} dict, e.g. amounts.amount_cents
                    dict_key_next = False
                    continue
                f = _field(parent, part) if isinstance(parent, type) and issubclass(parent, BaseModel) else None
                if f is not None:
                    dict_key_next = typing.get_origin(f.annotation) is dict
                    parent = model_of(f.annotation)
                elif part.isdigit():
                    continue
                else:
                    parent = None
                if parent is None:
                    break
            allowed = _field_keys(parent, hidden) if parent is not None else []
            hint = did_you_mean(clean[-1] if clean else "", allowed)
            msg = f"{src}: key {where!r} is not allowed{hint}" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
        elif err["type"] == "missing":
            msg = f"{src}: key {where!r} is required but missing"
        else:
            got = err.get("input")
            text = err["msg"].removeprefix("Value error, ")
            extra = note(err) if note else ""
            if err["type"] == "literal_error":
                msg = (f"{src}: key {where!r}: {got!r} is not allowed; {text}"
                       f"{did_you_mean(str(got), _literal_values(err))}{extra}")
            else:
                shown = "" if isinstance(got, dict) else f" (got {got!r})"
                msg = f"{src}: key {where!r}: {text}{shown}{extra}"
        if msg not in lines:
            lines.append(msg)
    return lines
