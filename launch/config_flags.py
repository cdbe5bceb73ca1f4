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


# Help groups: flag name -> group title, filled by `define_config_flags` and `set_group`.
_GROUPS: Dict[str, str] = {}
_CLASS_GROUPS = {"MaceConfig": "learner", "NetworkConfig": "network", "TrainConfig": "run"}


def _format_layers(layers) -> list:
  return [":".join(str(v) for v in layer) for layer in layers]


def _parse_layers(name: str, values) -> tuple:
  try:
    return tuple(tuple(int(v) for v in layer.split(":")) for layer in values)
  except ValueError:
    raise ValueError(f"--{name} takes filters:kernel:stride per layer, got {values}") from None


def define_config_flags(cls, *, choices: Dict[str, Sequence[str]] = None, skip: Sequence[str] = (),
                        defaults: Dict[str, object] = None, flag_values=FLAGS,
                        group: str = None) -> None:
  """Defines `--<field>` for every field of the dataclass `cls` but `skip` (and nested dataclass
  fields, which get their own call). `choices` makes a field an enum flag; `defaults` overrides a
  field's default as a flag's (the dataclass' own default otherwise); `group`: their title in
  `--help` (default: by class, `_CLASS_GROUPS`)."""
  choices, defaults = choices or {}, defaults or {}
  group = group or _CLASS_GROUPS.get(cls.__name__, "run")
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
    _GROUPS[name] = group
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


GROUP_ORDER = ("learner", "network", "game", "run")


def set_group(title: str, names: Sequence[str]) -> None:
  """Lists the flags `names` under `title` in a launcher's `--help`."""
  for name in names:
    _GROUPS[name] = title


def grouped_help(doc: str, flag_values=FLAGS) -> str:
  """A launcher's `--help`: its docstring, then its own flags (those defined in `launch` modules,
  not absl's or TensorFlow's) by group, each with its help text and default."""
  own = {}
  for module, module_flags in flag_values.flags_by_module_dict().items():
    if "launch" in module or "mace_tf" in module:
      for flag in module_flags:
        own[flag.name] = flag
  groups: Dict[str, list] = {}
  for name in sorted(own):
    groups.setdefault(_GROUPS.get(name, "run"), []).append(own[name])
  titles = [t for t in GROUP_ORDER if t in groups] + sorted(set(groups) - set(GROUP_ORDER))
  lines = [doc.strip(), "", "Flags (--helpfull also lists absl's and TensorFlow's):"]
  for title in titles:
    lines += ["", f"{title}:"]
    for flag in groups[title]:
      kind = f" <{'|'.join(flag.enum_values)}>" if getattr(flag, "enum_values", None) else ""
      lines.append(f"  --{flag.name}{kind}: {flag.help} (default: {flag.default_as_str or 'none'})")
  return "\n".join(lines)


def validate_threads(*names: str) -> None:
  """Flags `names` must be `intra:inter` thread counts (absl reports a bad value in one line)."""
  for name in names:
    flags.register_validator(name, lambda v: re.fullmatch(r"\d+:\d+", v) is not None,
                             message=f"--{name} takes intra:inter thread counts, e.g. 1:2")


def validate_subset(name: str, allowed: Sequence[str]) -> None:
  """List flag `name` must be a non-empty subset of `allowed`."""
  flags.register_validator(name, lambda v: bool(v) and set(v) <= set(allowed),
                           message=f"--{name} takes a comma-separated subset of {list(allowed)}")
