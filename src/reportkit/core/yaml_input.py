"""Reading reportkit's YAML files (params, source mappings, plans) the same way.

One home for what every YAML loader needs:

* :func:`read_yaml_mapping` reads a file into a ``dict`` and turns a missing
  file, undecodable bytes, invalid YAML (including impossible bare dates such
  as ``2025-11-31``, which the YAML parser itself rejects) and a top level that
  is not a mapping into the caller's :class:`~reportkit.core.errors.InputError`
  subclass, naming the file. A key given twice in one mapping is refused with both
  lines (plain YAML keeps the last one silently: a second ``period:`` would win).
* :func:`format_validation_errors` turns a pydantic ``ValidationError`` into one
  line per problem: ``file: key 'a.b': what is wrong (got value)``; unknown keys
  get a did-you-mean and the allowed keys of the model they sit in (nested
  models, lists and ``{name: Model}`` dicts are followed); a value outside a
  ``Literal`` gets the allowed set. Given the YAML document (``yaml_root=`` or
  ``yaml_file=``) each line also names the line of the file the key is on, and a
  bad value that YAML typed from unquoted text says so (:func:`yaml_value_note`):
  ``file, line 7: key 'a.b': what is wrong (got False); YAML reads the unquoted 'NO'
  as the boolean False: quote it ("NO") if you meant the text``. Params, plans and
  source mappings all report through it.
* :func:`non_text_keys`: mapping keys YAML did not read as text (``on:``, ``yes:``).
"""

from __future__ import annotations

import datetime
import re
import typing
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import InputError, did_you_mean
from .types import impossible_date

__all__ = [
    "read_yaml_mapping",
    "yaml_syntax_message",
    "format_validation_errors",
    "model_of",
    "yaml_node",
    "yaml_line",
    "yaml_file_line",
    "yaml_value_note",
    "non_text_keys",
    "YAML_KINDS",
    "KeyedValueError",
    "DATE_FIX",
]


class KeyedValueError(ValueError):
    """A cross-field problem a model validator finds, naming the key it is about.

    Raise it from a pydantic ``model_validator`` instead of a bare ``ValueError``:
    :func:`format_validation_errors` then names ``key`` (relative to the model that
    raised it, e.g. ``("ramp_amounts", 0)`` inside ``quota``), its YAML line and
    ``value``, as it does for a single-field error, instead of the model's own path
    (``'(top level)'`` for a plan).

    Parameters
    ----------
    message : str
        What is wrong and the fix.
    key : str or tuple
        Key path below the validated model (``"rates.tiers.0.rate"`` or a tuple).
    value : object
        The bad value, shown as ``(got ...)``.

    Examples
    --------
    >>> e = KeyedValueError("base_salary 9 exceeds ote 5", "base_salary", 9)
    >>> e.key, e.value
    (('base_salary',), 9)
    """

    def __init__(self, message: str, key: str | tuple, value: Any) -> None:
        super().__init__(message)
        self.key = tuple(key.split(".")) if isinstance(key, str) else tuple(key)
        self.value = value


_TOP_LEVEL_HINT = "write one 'key: value' per line at the top level, e.g. 'name: ...' (the docs list each file's keys)"


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
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader
        root = yaml.compose(text, Loader=yaml.SafeLoader) if node else None
    except _DuplicateKey as exc:
        raise error(
            f"{path}, line {exc.line}: key {exc.key!r} is given twice in the same mapping (lines {exc.first} and "
            f"{exc.line}); YAML would silently keep the last one",
            hint="keep one of them",
        ) from None
    except yaml.YAMLError as exc:
        raise error(yaml_syntax_message(path, exc), hint=_YAML_SYNTAX_HINT) from None
    except ValueError as exc:
        # YAML turns bare dates into dates itself: 2025-11-31 fails inside the parser
        raise error(
            f"{path}: a value is not a valid date: {exc}",
            hint=DATE_FIX,
        ) from None
    if raw is None and empty_ok:
        raw = {}
    if raw is None:
        raise error(f"{path}: the {what} is empty (no keys, only blank lines or comments)", hint=_TOP_LEVEL_HINT)
    if not isinstance(raw, dict):
        got = "a list (lines starting with '- ')" if isinstance(raw, list) else f"the single value {raw!r}"
        raise error(f"{path}: the {what} must be 'key: value' lines, but YAML reads it as {got}", hint=_TOP_LEVEL_HINT)
    return (raw, root) if node else raw


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: Any, first: int, line: int) -> None:
        super().__init__(f"key {key!r} on lines {first} and {line}")
        self.key, self.first, self.line = key, first, line


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (merge keys ``<<`` aside)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise _DuplicateKey(key, seen[key], line)
                seen[key] = line
            except TypeError:  # an unhashable key: the base constructor says so
                continue
        return super().construct_mapping(node, deep)

    def construct_yaml_timestamp(self, node: Any) -> Any:
        """A bare date, or its text when it is no calendar date (``2025-02-31``): the model that reads
        the key then refuses it with the key, its line and the fix, beside the file's other errors."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return str(node.value)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _UniqueKeyLoader.construct_yaml_timestamp)

DATE_FIX = "write a real calendar date in YYYY-MM-DD form, e.g. 2025-11-30"
"""The fix of a date a YAML file gives wrong (params, plans, mappings)."""


_YAML_SYNTAX_HINT = (
    "fix the YAML at that line: indent nested keys by the same spaces, close every [ ] and { }, "
    "and quote values that contain ': ' or start with a special character"
)


def yaml_syntax_message(path: str | Path, exc: yaml.YAMLError) -> str:
    """A YAML syntax error as ``file, line L, column C: not valid YAML: problem``.

    The parser's own text names ``<unicode string>`` (it parsed a string); this names
    the file and the 1-based line and column of the problem, then what the parser
    saw (and, when it says so, where the construct it was reading started).

    Examples
    --------
    >>> try:
    ...     yaml.safe_load("name: x\\nrates:\\n  tiers: [a, b\\n  method: flat\\n")
    ... except yaml.YAMLError as exc:
    ...     print(yaml_syntax_message("plans/x.yaml", exc))
    plans/x.yaml, line 4, column 9: not valid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence that starts on line 3, column 10)
    """
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).split("\n", 1)[0]
    where = f"{path}" if mark is None else f"{path}, line {mark.line + 1}, column {mark.column + 1}"
    context, cmark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    started = ""
    if context:
        started = f" ({context}" + (
            f" that starts on line {cmark.line + 1}, column {cmark.column + 1})" if cmark is not None else ")"
        )
    return f"{where}: not valid YAML: {problem}{started}"


#: How YAML types unquoted scalars that are not text, in words.
YAML_KINDS = {
    "tag:yaml.org,2002:bool": "the boolean",
    "tag:yaml.org,2002:int": "the number",
    "tag:yaml.org,2002:float": "the number",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:null": "null (nothing)",
}


def _walk(root: Any, loc: tuple) -> tuple[Any, Any]:
    """(node at ``loc``, the key node or list item that names it) in a composed document; (None, None) if absent."""
    node, named = root, root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    node, named = v, k
                    break
            else:
                return None, None
        elif isinstance(node, yaml.SequenceNode) and str(part).isdigit() and int(part) < len(node.value):
            node = named = node.value[int(part)]
        else:
            return None, None
    return node, named


def yaml_node(root: Any, loc: tuple) -> Any:
    """The YAML node at ``loc`` (keys / list positions) in a composed document (``yaml.compose``), or None."""
    return _walk(root, loc)[0]


def yaml_line(root: Any, loc: tuple) -> int | None:
    """The 1-based line of the file where the key (or list item) at ``loc`` is written, or None.

    Examples
    --------
    >>> root = yaml.compose("period: FY2025-Q4\\ncommission:\\n  rate: 7%\\n", Loader=yaml.SafeLoader)
    >>> yaml_line(root, ("commission", "rate")), yaml_line(root, ("nope",))
    (3, None)
    """
    named = _walk(root, loc)[1] if loc else None
    return None if named is None else named.start_mark.line + 1


def yaml_value_note(root: Any, loc: tuple, got: Any) -> str:
    """How YAML typed an unquoted value: ``; YAML reads the unquoted 'NO' as the boolean False: quote it ("NO") ...``.

    Empty when the value was text, was quoted, or is not in the document.

    Examples
    --------
    >>> root = yaml.compose("country: NO", Loader=yaml.SafeLoader)
    >>> print(yaml_value_note(root, ("country",), False))
    ; YAML reads the unquoted 'NO' as the boolean False: quote it ("NO") if you meant the text
    """
    if root is None or isinstance(got, (str, dict)):
        return ""
    node = yaml_node(root, loc)
    if isinstance(got, list):
        if not isinstance(node, yaml.SequenceNode):
            return ""
        notes = [yaml_value_note(root, (*loc, i), v) for i, v in enumerate(got)]
        return "".join(n for n in notes if n)
    if not isinstance(node, yaml.ScalarNode) or node.style is not None or node.tag not in YAML_KINDS:
        return ""
    shown = "" if node.tag.endswith(":timestamp") or node.tag.endswith(":null") else f" {got!r}"
    return (
        f"; YAML reads the unquoted {node.value!r} as {YAML_KINDS[node.tag]}{shown}: "
        f'quote it ("{node.value}") if you meant the text'
    )


def non_text_keys(node: Any, path: tuple = ()) -> list[str]:
    """Mapping keys that YAML did not read as text (``on:``, ``yes:``, ``1:``), one message each."""
    out = []
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.style is None and k.tag != "tag:yaml.org,2002:str":
                    where = ".".join([*path, k.value])
                    out.append(
                        f"key {where!r} is read by YAML as {YAML_KINDS.get(k.tag, 'a non-text value')}, "
                        f'not as text; quote it ("{k.value}")'
                    )
                out += non_text_keys(v, (*path, k.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            out += non_text_keys(v, (*path, str(i)))
    return out


def _compose(path: str | Path) -> Any:
    """The composed YAML document of ``path`` (to tell lines and how YAML typed values), or None if unreadable."""
    try:
        return yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError):
        return None


def yaml_file_line(path: str | Path, loc: tuple) -> int | None:
    """The 1-based line of YAML file ``path`` where the key (or list item) at ``loc`` is written, or None.

    Reads the file again: for a message about a key found bad after loading (an
    account manager id the data does not have), never on the way of a valid run.
    """
    root = _compose(path)
    return None if root is None else yaml_line(root, tuple(loc))


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


def _parent_model(root: type[BaseModel], clean: list[str]) -> type[BaseModel] | None:
    """The model holding the last key of the path ``clean`` (None when the path leaves the models)."""
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
    return parent


def _missing_choices(parent: type[BaseModel] | None, clean: list[str]) -> str:
    """What a missing key's message adds when the key takes one of a fixed set of values.

    ``' (allowed: close_date | month_average | quarter_average); add it, e.g. conversion: close_date'``
    for a required ``Literal`` key; ``''`` otherwise.
    """
    f = _field(parent, clean[-1]) if clean and parent is not None else None
    if f is None or typing.get_origin(f.annotation) is not typing.Literal:
        return ""
    values = [str(v) for v in typing.get_args(f.annotation)]
    return f" (allowed: {' | '.join(values)}); add it, e.g. {clean[-1]}: {values[0]}"


def _shown(value: Any) -> str:
    """A bad value as a message shows it: a date as the file writes it (``2025-02-28``), else its repr."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return repr(value)


#: pydantic's bound errors (``Field(ge=0)``, ``le=1``): the context key of their limit and its words.
_BOUNDS = {
    "greater_than_equal": ("ge", "below", "{limit} or more", "at least {limit}"),
    "greater_than": ("gt", "not above", "more than {limit}", "more than {limit}"),
    "less_than_equal": ("le", "above", "at most {limit}", "at most {limit}"),
    "less_than": ("lt", "not below", "less than {limit}", "less than {limit}"),
}


def bound_text(kind: str, value: Any, ctx: dict) -> str:
    """A value out of a key's range in words: the value, what is allowed and the fix (not pydantic's sentence).

    >>> bound_text("greater_than_equal", Decimal("-5"), {"ge": 0})
    '-5 is below 0: allowed is 0 or more; write a value of at least 0 (a negative amount or rate is never allowed here)'
    >>> bound_text("less_than_equal", Decimal("1.5"), {"le": 1})
    '1.5 is above 1: allowed is at most 1; write a value of at most 1 (a fraction: 1 == 100 %, 0.07 == 7 %)'
    """
    key, relation, allowed, fix = _BOUNDS[kind]
    limit = ctx.get(key)
    shown = str(value) if isinstance(value, (Decimal, int, float, str)) else _shown(value)
    why = ""
    if key in ("ge", "gt") and limit == 0:
        why = " (a negative amount or rate is never allowed here)"
    elif key in ("le", "lt") and limit == 1:
        why = " (a fraction: 1 == 100 %, 0.07 == 7 %)"
    return f"{shown} is {relation} {limit}: allowed is {allowed.format(limit=limit)}; write a value of {fix.format(limit=limit)}{why}"


def format_validation_errors(
    exc: ValidationError,
    file: str,
    root: type[BaseModel],
    *,
    hidden: tuple[str, ...] = ("base_dir",),
    origin: Callable[[tuple[str, ...]], str | None] | None = None,
    note: Callable[[dict], str] | None = None,
    yaml_root: Any = None,
    yaml_file: str | Path | None = None,
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
        ``note(error)`` returns more text appended to a bad-value message.
    yaml_root : yaml.Node, optional
        The composed YAML document that was validated (``read_yaml_mapping(...,
        node=True)``): each message names the line its key is on (``file, line 7:
        key ...``) and a bad value YAML typed from unquoted text says so
        (:func:`yaml_value_note`).
    yaml_file : str or Path, optional
        The YAML file that was validated, read again for the same (when the caller
        has no ``yaml_root``).
    """
    if yaml_root is None and yaml_file is not None:
        yaml_root = _compose(yaml_file)
    skip = _model_names(root) | {"str", "list", "dict", "int", "float", "bool"}
    lines: list[str] = []
    for err in exc.errors():
        # pydantic adds union branch names to locations (e.g. 'Source', 'list[Source]'); drop them
        clean = [str(p) for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in skip))]
        keyed = (err.get("ctx") or {}).get("error")
        if isinstance(keyed, KeyedValueError):  # a cross-field check names the key it is about
            clean += [str(k) for k in keyed.key]
            err = {**err, "loc": tuple(clean), "input": keyed.value}
        where = ".".join(clean) or "(top level)"
        src = origin(tuple(clean)) if origin else None
        line = yaml_line(yaml_root, tuple(clean)) if yaml_root is not None and src is None else None
        src = src or (file if line is None else f"{file}, line {line}")
        if err["type"] == "extra_forbidden":
            parent = _parent_model(root, clean)
            allowed = _field_keys(parent, hidden) if parent is not None else []
            hint = did_you_mean(clean[-1] if clean else "", allowed)
            msg = f"{src}: key {where!r} is not allowed{hint}" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
        elif err["type"] == "missing":
            msg = f"{src}: key {where!r} is required but missing" + _missing_choices(_parent_model(root, clean), clean)
        else:
            got = err.get("input")
            text = err["msg"].removeprefix("Value error, ")
            # a cross-field check's value was read as its type allows: no note on how YAML typed it
            extra = ("" if isinstance(keyed, KeyedValueError) else yaml_value_note(yaml_root, err["loc"], got)) + (
                note(err) if note else ""
            )
            if err["type"].startswith(("date_", "datetime_")):
                extra += f"; {DATE_FIX}"
                impossible = impossible_date(got) if isinstance(got, str) else None
                text = f"not a date: {impossible}" if impossible else text  # the part that does not exist
            if err["type"] in _BOUNDS:
                msg = f"{src}: key {where!r}: {bound_text(err['type'], got, (err.get('ctx') or {}))}{extra}"
            elif err["type"] == "literal_error":
                msg = f"{src}: key {where!r}: {got!r} is not allowed; {text}{did_you_mean(str(got), _literal_values(err))}{extra}"
            else:
                shown = "" if isinstance(got, dict) or (isinstance(got, str) and repr(got) in text) else f" (got {_shown(got)})"
                msg = f"{src}: key {where!r}: {text}{shown}{extra}"
        if msg not in lines:
            lines.append(msg)
    return lines
