"""absl flags generated from the config dataclasses: one flag per field, its help text from the
class docstring's `Attributes:`, its default from the field, so that a new field is a new flag."""

import dataclasses
import re
import typing
from typing import Dict, Sequence

from absl import flags

FLAGS = flags.FLAGS


def attribute_docs(cls) -> Dict[str, str]:
  """`{field: text}` from the `Attributes:` section of `cls`'s docstring (Google style)."""
  doc = cls.__doc__ or ""
  section = doc.split("Attributes:", 1)[1] if "Attributes:" in doc else ""
  out, name = {}, None
  for line in section.splitlines():
    match = re.match(r"^    (\w[\w, ]*): (.*)$", line)
    if match:
      names, text = match.groups()
      name = [n.strip() for n in names.split(",")]
      for n in name:
        out[n] = text
    elif name and line.startswith("      "):
      for n in name:
        out[n] += " " + line.strip()
    elif line.strip():
      name = None
  return out


def _format_layers(layers) -> list:
  return [":".join(str(v) for v in layer) for layer in layers]


def _parse_layers(name: str, values) -> tuple:
  try:
    return tuple(tuple(int(v) for v in layer.split(":")) for layer in values)
  except ValueError:
    raise ValueError(f"--{name} takes filters:kernel:stride per layer, got {values}") from None


def define_config_flags(cls, *, choices: Dict[str, Sequence[str]] = None, skip: Sequence[str] = (),
                        defaults: Dict[str, object] = None, flag_values=FLAGS) -> None:
  """Defines `--<field>` for every field of the dataclass `cls` but `skip` (and nested dataclass
  fields, which get their own call). `choices` makes a field an enum flag; `defaults` overrides a
  field's default as a flag's (the dataclass' own default otherwise)."""
  choices, defaults = choices or {}, defaults or {}
  docs = attribute_docs(cls)
  hints = typing.get_type_hints(cls)
  for field in dataclasses.fields(cls):
    name, kind = field.name, hints[field.name]
    if name in skip or dataclasses.is_dataclass(kind):
      continue
    if name not in docs:
      raise ValueError(f"{cls.__name__}.{name} has no entry in its docstring's Attributes")
    default = defaults.get(name, field.default)
    help_text = docs[name]
    if name in choices:
      flags.DEFINE_enum(name, default, list(choices[name]), help_text, flag_values=flag_values)
    elif kind is bool:
      flags.DEFINE_boolean(name, default, help_text, flag_values=flag_values)
    elif kind is int:
      flags.DEFINE_integer(name, default, help_text, flag_values=flag_values)
    elif kind is float:
      flags.DEFINE_float(name, default, help_text, flag_values=flag_values)
    elif kind is str:
      flags.DEFINE_string(name, default, help_text, flag_values=flag_values)
    elif typing.get_origin(kind) is tuple:  # layer triples, e.g. conv_filters
      flags.DEFINE_list(name, _format_layers(default), help_text + " As filters:kernel:stride "
                        "per layer, comma-separated.", flag_values=flag_values)
    else:
      raise TypeError(f"{cls.__name__}.{name}: no flag type for {kind}")


def config_from_flags(cls, flag_values=FLAGS, **fields):
  """An instance of `cls` from the flags `define_config_flags(cls)` defined; `fields` (e.g. a nested
  config) are passed as given. Invalid values raise the dataclass' own ValueError."""
  hints = typing.get_type_hints(cls)
  values = dict(fields)
  for field in dataclasses.fields(cls):
    name = field.name
    if name in values or name not in flag_values:
      continue
    value = flag_values[name].value
    if typing.get_origin(hints[name]) is tuple:
      value = _parse_layers(name, value)
    values[name] = value
  return cls(**values)
