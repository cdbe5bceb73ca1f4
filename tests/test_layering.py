"""The package's layering (DESIGN.md): what may import what, and where private TF APIs may appear."""

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _modules(package):
  for dirpath, _, files in os.walk(os.path.join(ROOT, *package.split("."))):
    for name in files:
      if name.endswith(".py"):
        yield os.path.join(dirpath, name)


def _imports(path):
  tree = ast.parse(open(path).read())
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      yield from (a.name for a in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module:
      yield node.module


@pytest.mark.parametrize("package,forbidden", [
    ("mace_tf.envs", ("mace_tf.agents", "mace_tf.fast", "mace_tf.train", "mace_tf.networks")),
    ("mace_tf.networks", ("mace_tf.agents", "mace_tf.fast", "mace_tf.train")),
])
def test_lower_layers_do_not_import_higher_ones(package, forbidden):
  for path in _modules(package):
    for module in _imports(path):
      assert not module.startswith(forbidden), f"{os.path.relpath(path, ROOT)} imports {module}"


def test_private_tensorflow_apis_only_in_the_fast_path_package():
  for package in ("mace_tf", "launch"):
    for path in _modules(package):
      rel = os.path.relpath(path, ROOT)
      if rel.startswith(os.path.join("mace_tf", "fast")):
        continue
      for module in _imports(path):
        assert not module.startswith("tensorflow.python"), f"{rel} imports {module}"


def test_launchers_stay_thin():
  for name in os.listdir(os.path.join(ROOT, "launch")):
    if name.endswith(".py"):
      with open(os.path.join(ROOT, "launch", name)) as f:
        assert len(f.readlines()) <= 150, f"launch/{name} is over 150 lines"


# Public APIs spelled with an underscore: namedtuple's, and os._exit.
_NAMEDTUPLE_API = {"_replace", "_fields", "_asdict", "_make", "_field_defaults", "_exit"}


def _private_attribute_uses(path):
  """(line, `receiver._name`) for every attribute access `x._name` in the file whose receiver is
  not `self`, `cls` or `super()`: another object's private attribute (TF's or ours)."""
  tree = ast.parse(open(path).read())
  for node in ast.walk(tree):
    if not isinstance(node, ast.Attribute):
      continue
    name = node.attr
    if not name.startswith("_") or name.startswith("__") or name in _NAMEDTUPLE_API:
      continue
    value = node.value
    if isinstance(value, ast.Name) and value.id in ("self", "cls"):
      continue
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "super":
      continue
    yield node.lineno, f"{ast.unparse(value)}.{name}"


def test_no_private_attribute_of_another_object_outside_the_fast_path_and_compat():
  allowed = (os.path.join("mace_tf", "fast") + os.sep, os.path.join("mace_tf", "compat.py"))
  found = []
  for package in ("mace_tf", "launch"):
    for path in _modules(package):
      rel = os.path.relpath(path, ROOT)
      if rel.startswith(allowed):
        continue
      found += [f"{rel}:{line}: {use}" for line, use in _private_attribute_uses(path)]
  assert not found, "\n".join(found)


def test_the_private_attribute_check_sees_a_use(tmp_path):
  # The check above must be able to fail: it finds TF's private optimizer method in a sample.
  sample = tmp_path / "sample.py"
  sample.write_text("def f(optimizer, v):\n  self_like = optimizer\n"
                    "  return self_like._create_all_weights(v), v._replace(a=1)\n")
  assert [use for _, use in _private_attribute_uses(str(sample))] == [
      "self_like._create_all_weights"]


def _module_name(path):
  rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
  return rel[: -len(".__init__")] if rel.endswith(".__init__") else rel


def _import_graph(package="mace_tf"):
  """module -> the mace_tf modules it imports anywhere (top level or inside functions)."""
  modules = {_module_name(p): p for p in _modules(package)}
  graph = {}
  for name, path in modules.items():
    targets = set()
    tree = ast.parse(open(path).read())
    for node in ast.walk(tree):
      if isinstance(node, ast.Import):
        targets.update(a.name for a in node.names)
      elif isinstance(node, ast.ImportFrom) and node.module:
        # `from package import module` depends on that module (the package's __init__ runs
        # first, but importing a sibling through it is no cycle); `from module import name` on
        # the module.
        subs = {f"{node.module}.{a.name}" for a in node.names} & set(modules)
        targets.update(subs or {node.module})
    graph[name] = {t for t in targets if t in modules and t != name}
  return graph


def _cycle(graph):
  """One import cycle as a list of modules, or None."""
  state = {}

  def visit(node, stack):
    state[node] = "open"
    for nxt in sorted(graph[node]):
      if state.get(nxt) == "open":
        return stack[stack.index(nxt):] + [nxt]
      if nxt not in state:
        found = visit(nxt, stack + [nxt])
        if found:
          return found
    state[node] = "done"
    return None

  for node in sorted(graph):
    if node not in state:
      found = visit(node, [node])
      if found:
        return found
  return None


def test_no_import_cycle_inside_mace_tf():
  assert _cycle(_import_graph()) is None, " -> ".join(_cycle(_import_graph()))
  # The check can fail: a two-module loop is found.
  assert _cycle({"a": {"b"}, "b": {"a"}}) in (["a", "b", "a"], ["b", "a", "b"])


def test_no_report_module_under_train():
  assert not [n for n in os.listdir(os.path.join(ROOT, "mace_tf", "train"))
              if "report" in n or n in ("paper_scale.py", "benchmarking.py", "figures.py")]
