"""Imports run one way (STYLE.md › The house), read from the source with `ast`.

`accounts` imports nothing of ours; a credential kind (`tokens.personal`, `tokens.login`,
`tokens.oauth`, `tokens.api_keys`) never imports another kind, and the root modules of
`tokens` import none, except the modules that wire every kind together; `chats` uses
the root modules of `tokens` only. Nothing is imported to check this, so a cycle or a
broken module cannot hide a violation.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("lib", "accounts", "tokens", "chats", "portal")
KINDS = ("tokens.personal", "tokens.login", "tokens.oauth", "tokens.api_keys")
# They put every kind's routes, admin screens and commands together. Commands are here
# because Django finds them only in <app>/management/commands/, never inside a kind.
COMPOSERS = ("tokens.urls", "tokens.api_urls", "tokens.admin", "tokens.management")
# Root modules of tokens that chats may not use all the same: they reach into the kinds.
NOT_FOR_CHATS = ("tokens.urls", "tokens.api_urls")


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str  # the importing module
    target: str  # the absolute name imported

    def __str__(self):
        return f"{self.path.relative_to(ROOT)}:{self.line} imports {self.target}"


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_in(path, source=None, module=None):
    """Every module `path` imports, relative imports made absolute. `from x import y`
    counts as importing `x` and `x.y`, since `y` may be a submodule."""
    module = module or module_name(path)
    tree = ast.parse(source if source is not None else path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(path, node.lineno, module, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.append(Import(path, node.lineno, module, target))
            found += [
                Import(path, node.lineno, module, f"{target}.{alias.name}")
                for alias in node.names
                if alias.name != "*"
            ]
    return found


def imports_of(app):
    files = sorted((ROOT / app).rglob("*.py"))
    return [i for f in files if "migrations" not in f.parts for i in imports_in(f)]


def within(name, package):
    return name == package or name.startswith(package + ".")


def kind_of(name):
    return next((kind for kind in KINDS if within(name, kind)), None)


def is_root_module_of_tokens(name):
    """`tokens` itself or `tokens.<name>` and below, when <name> is no kind and no urls."""
    if not within(name, "tokens"):
        return False
    return kind_of(name) is None and not any(within(name, m) for m in NOT_FOR_CHATS)


def assert_none(violations, rule):
    """Fails with one line per import statement, naming the outermost module it may not import."""
    if not violations:
        return
    first = {}
    for v in sorted(violations, key=lambda v: len(v.target)):
        first.setdefault((v.path, v.line), v)
    lines = sorted(first.values(), key=lambda v: (v.path, v.line))
    pytest.fail(f"{rule}:\n" + "\n".join(f"  {v}" for v in lines), pytrace=False)


@pytest.mark.parametrize(
    "module, source, expected",
    [
        ("tokens.audit", "import accounts.models", {"accounts.models"}),
        ("tokens.audit", "from accounts import services", {"accounts", "accounts.services"}),
        ("tokens.personal.views", "from . import services", {"tokens.personal.services"}),
        ("tokens.personal.views", "from .forms import TokenForm", {"tokens.personal.forms"}),
        ("tokens.personal.views", "from ..audit import record", {"tokens.audit"}),
        ("tokens.personal.views", "from .. import audit", {"tokens", "tokens.audit"}),
        ("tokens.personal.views", "from ..oauth import services", {"tokens.oauth.services"}),
        ("tokens.personal.__init__", "from .services import issue", {"tokens.personal.services"}),
        ("chats.api.base", "def f():\n    from tokens.login import x", {"tokens.login.x"}),
    ],
)
def test_imports_are_read_with_relative_ones_made_absolute(module, source, expected):
    parts = module.split(".")
    path = ROOT.joinpath(*parts).with_suffix(".py")
    targets = {i.target for i in imports_in(path, source, module.removesuffix(".__init__"))}
    assert expected <= targets


@pytest.mark.parametrize("kind", KINDS)
def test_every_credential_kind_is_a_package_so_the_rules_below_cannot_pass_vacuously(kind):
    package = ROOT.joinpath(*kind.split("."))
    assert (package / "__init__.py").is_file(), f"{kind} should be a package at {package}"


def ours(name):
    return any(within(name, app) for app in APPS)


# Each rule: (what it says, which imports break it, an import that must break it).
RULES = [
    (
        "accounts is the ground floor and imports no app of ours (lib's helpers only)",
        lambda i: (
            within(i.module, "accounts")
            and ours(i.target)
            and not any(within(i.target, low) for low in ("accounts", "lib"))
        ),
        ("accounts.services", "from tokens import audit"),
    ),
    (
        "lib holds model-free helpers and imports no app of ours",
        lambda i: within(i.module, "lib") and ours(i.target) and not within(i.target, "lib"),
        ("lib.tasks", "from accounts.models import User"),
    ),
    (
        "a credential kind may not import another kind",
        lambda i: kind_of(i.module) and kind_of(i.target) not in (None, kind_of(i.module)),
        ("tokens.personal.views", "from ..oauth import services"),
    ),
    (
        f"a root module of tokens may not import a kind (only {', '.join(COMPOSERS)} may)",
        lambda i: (
            within(i.module, "tokens")
            and kind_of(i.module) is None
            and not any(within(i.module, c) for c in COMPOSERS)
            and kind_of(i.target)
        ),
        ("tokens.audit", "from .api_keys import services"),
    ),
    (
        "the cache package knows no kind, nor anything of tokens outside itself",
        lambda i: (
            within(i.module, "tokens.cache")
            and within(i.target, "tokens")
            and not within(i.target, "tokens.cache")
            and i.target != "tokens"
        ),
        ("tokens.cache.store", "from ..personal import services"),
    ),
    (
        "tokens stands below chats and never imports it",
        lambda i: within(i.module, "tokens") and within(i.target, "chats"),
        ("tokens.notifications", "def f():\n    from chats import events"),
    ),
    (
        "chats may import the root modules of tokens only, not a kind nor its urls",
        lambda i: (
            within(i.module, "chats")
            and within(i.target, "tokens")
            and not is_root_module_of_tokens(i.target)
        ),
        ("chats.api.base", "from tokens.login import services"),
    ),
    (
        "portal only wires: no app imports it",
        lambda i: not within(i.module, "portal") and within(i.target, "portal"),
        ("chats.views", "from portal import errors"),
    ),
]


def all_imports():
    return [i for app in APPS for i in imports_of(app)]


@pytest.mark.parametrize("rule", RULES, ids=[rule[0] for rule in RULES])
def test_the_code_keeps_the_rule(rule):
    what, breaks, _ = rule
    assert_none([i for i in all_imports() if breaks(i)], what)


@pytest.mark.parametrize("rule", RULES, ids=[rule[0] for rule in RULES])
def test_the_rule_catches_a_deliberately_wrong_import(rule):
    what, breaks, (module, source) = rule
    path = ROOT.joinpath(*module.split(".")).with_suffix(".py")
    wrong = imports_in(path, source, module)
    assert any(breaks(i) for i in wrong), f"{what!r} let {source!r} in {module} through"


def module_graph():
    """Module -> the modules of ours it imports when it is loaded (top-level statements
    only: an import inside a function runs later and cannot make a cycle at load)."""
    graph = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = module_name(path)
            tree = ast.parse(path.read_text(), filename=str(path))
            top = ast.Module(
                body=[n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)],
                type_ignores=[],
            )
            targets = {i.target for i in imports_in(path, ast.unparse(top), module)}
            graph[module] = {t for t in targets if ours(t)}
    return {m: {t for t in ts if t in graph and t != m} for m, ts in graph.items()}


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_of_ours_imports_itself_back_at_load():
    found = cycles(module_graph())
    assert not found, "import cycles:\n" + "\n".join("  " + " -> ".join(c) for c in found)


def test_a_deliberate_cycle_is_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
