"""Every message text in ``coverage/`` that the page can show, found by reading the source.

The scan walks the modules the page imports (directly or through other
modules of the package) with :mod:`ast` and collects the string literals and
f-strings passed as a message or a fix to ``InputError``, ``InfeasibleError``,
``Problem``, ``ProblemCollector.add`` / ``.warn``, to the
notes and warnings lists a loader returns (also a ``note`` it hands back), and
the progress steps a long run reports. Strings built with ``+`` and ``if ... else`` are followed, and so are
names bound to a string in the module or the function, and helpers that build
a message from their arguments (``siting._fail("p", "must be ...", fix)``). Each f-string
placeholder becomes a :class:`Hole`; :func:`instances` fills them with sample
values so that the text can be run through :func:`coverage.i18n.message_text`.
"""

from __future__ import annotations

import ast
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "coverage"
PAGE_FILES = (ROOT / "app.py", *sorted((ROOT / "ui").glob("*.py")))


@dataclass(frozen=True)
class Hole:
    """An f-string placeholder (or a value the scan cannot resolve)."""

    source: str
    spec: str = ""
    conversion: int = -1


@dataclass(frozen=True)
class Template:
    """One message text: where it is, what it is (message, fix, note, error, step) and its parts."""

    module: str
    line: int
    kind: str
    parts: tuple
    function: str = ""
    via: int = 0  # the line of the call that passed text to a message-building helper


    @property
    def where(self) -> str:
        return f"{self.module}:{self.line}" + (f" (via line {self.via})" if self.via else "")

    @property
    def key(self) -> str:
        """``path:function`` of the function the text is in (``path`` relative to the project)."""
        return f"{self.module}:{self.function}"

    def text(self) -> str:
        """The template with each placeholder shown as ``{source}``."""
        return "".join(p if isinstance(p, str) else "{" + p.source + "}" for p in self.parts)

    @property
    def literal_chars(self) -> int:
        return sum(len(p) for p in self.parts if isinstance(p, str))


# --------------------------------------------------------------------------- modules the page reaches
def _imports(path: Path) -> set[str]:
    """Modules of ``coverage`` that ``path`` imports anywhere (also inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_package = path.parent == PACKAGE
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level and in_package:
                base = mod.split(".")[0] if mod else ""
                names = [base] if base else [a.name for a in node.names]
            elif mod == "coverage":
                names = [a.name for a in node.names]
            elif mod.startswith("coverage."):
                names = [mod.split(".")[1]]
            else:
                continue
            out.update(n for n in names if (PACKAGE / f"{n}.py").exists())
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("coverage."):
                    out.add(a.name.split(".")[1])
    return out


def page_modules() -> list[str]:
    """Modules of ``coverage`` reachable by imports from ``app.py`` and ``ui/``."""
    todo = set().union(*(_imports(p) for p in PAGE_FILES))
    seen: set[str] = set()
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        todo |= _imports(PACKAGE / f"{mod}.py") - seen
    return sorted(seen)


# --------------------------------------------------------------------------- string expressions
_ERROR_TYPES = {"InputError", "Problem", "InfeasibleError"}
_NOTE_LISTS = {"notes", "warnings", "fac_notes"}


class _Strings:
    """Resolve an expression to the alternative part lists of the strings it can be."""

    def __init__(self, module_consts: dict[str, ast.expr], scopes: list[dict[str, ast.expr]]):
        self.module_consts = module_consts
        self.scopes = scopes

    def alternatives(self, node: ast.expr, depth: int = 0) -> list[tuple] | None:
        """Part tuples, or None when ``node`` is not a string expression."""
        if depth > 8:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [(node.value,)]
        if isinstance(node, ast.JoinedStr):
            options: list[list[tuple]] = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    options.append([(v.value,)])
                    continue
                known = None
                if v.format_spec is None and v.conversion == -1 and isinstance(v.value, ast.Name):
                    known = self.alternatives(v.value, depth + 1)  # e.g. a `where` set just above
                if known is None:
                    spec = ""
                    if v.format_spec is not None:
                        spec = "".join(x.value for x in v.format_spec.values if isinstance(x, ast.Constant))
                    known = [(Hole(ast.unparse(v.value), spec, v.conversion),)]
                options.append(known)
            return [tuple(itertools.chain.from_iterable(combo)) for combo in itertools.product(*options)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.alternatives(node.left, depth + 1)
            right = self.alternatives(node.right, depth + 1)
            if left is None and right is None:
                return None
            left = left or [(Hole(ast.unparse(node.left)),)]
            right = right or [(Hole(ast.unparse(node.right)),)]
            return [a + b for a, b in itertools.product(left, right)]
        if isinstance(node, ast.Lambda):  # a message made per row: ``lambda k: f"..."``
            return self.alternatives(node.body, depth + 1)
        if isinstance(node, ast.IfExp):
            a = self.alternatives(node.body, depth + 1)
            b = self.alternatives(node.orelse, depth + 1)
            if a is None and b is None:
                return None
            return (a or []) + (b or [])
        if isinstance(node, ast.Name):
            for scope in (*reversed(self.scopes), self.module_consts):
                if node.id in scope:
                    return self.alternatives(scope[node.id], depth + 1)
        return None

    def parts(self, node: ast.expr) -> list[tuple]:
        """Like :meth:`alternatives`, but an unresolved value is one placeholder."""
        return self.alternatives(node) or [(Hole(ast.unparse(node)),)]


def _assigned_strings(body: list[ast.stmt]) -> dict[str, ast.expr]:
    """Names bound once to a string expression directly in ``body`` (nested blocks included)."""
    seen: dict[str, list[ast.expr]] = {}
    for node in body:
        for sub in ast.walk(node):
            if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and sub is not node:
                continue
            if isinstance(sub, ast.Assign) and len(sub.targets) == 1 and isinstance(sub.targets[0], ast.Name):
                seen.setdefault(sub.targets[0].id, []).append(sub.value)
            elif isinstance(sub, ast.AnnAssign) and isinstance(sub.target, ast.Name) and sub.value is not None:
                seen.setdefault(sub.target.id, []).append(sub.value)
    return {k: v[0] for k, v in seen.items() if len(v) == 1}


def _module_consts(tree: ast.Module) -> dict[str, ast.expr]:
    lim = ast.parse((PACKAGE / "limits.py").read_text(encoding="utf-8"))
    consts = {n.targets[0].id: n.value for n in lim.body  # imported inside functions, too
              if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            consts[node.targets[0].id] = node.value
    return consts


def _name_of(node: ast.expr) -> str:
    """``x`` of ``x`` or of ``a.x``, else ""."""
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def call_name(node: ast.Call) -> str:
    """The name a call calls: ``f`` of ``f(...)`` and of ``obj.f(...)``."""
    return _name_of(node.func)


def _receiver(node: ast.Call) -> str:
    return _name_of(node.func.value) if isinstance(node.func, ast.Attribute) else ""


#: Names that hold a note handed back to the caller (``note = f"the header spans rows ..."``).
_NOTE_NAMES = {"note"}


def _message_args(node: ast.Call, strings: _Strings) -> list[tuple[str, ast.expr]]:
    """(kind, expression) of the message texts in one call, or [] for other calls."""
    name = call_name(node)
    kw = {k.arg: k.value for k in node.keywords if k.arg}
    out: list[tuple[str, ast.expr]] = []
    if name in _ERROR_TYPES:
        first = node.args[0] if node.args else kw.get("message")
        if first is not None and strings.alternatives(first) is not None:
            out.append(("error" if name == "InfeasibleError" else "message", first))
        second = node.args[1] if name == "Problem" and len(node.args) > 1 else kw.get("fix")
        if second is not None:
            out.append(("fix", second))
    elif name in ("add", "warn") and node.args and (
            _receiver(node) in ("pc", "problems", "notes")
            or (strings.alternatives(node.args[0]) is not None and (name == "warn" or "fix" in kw))):
        out.append(("note" if name == "warn" else "message", node.args[0]))
        if "fix" in kw:
            out.append(("fix", kw["fix"]))
    elif name == "append" and _receiver(node) in _NOTE_LISTS and node.args \
            and strings.alternatives(node.args[0]) is not None:
        out.append(("note", node.args[0]))
    elif name in ("progress", "step") and len(node.args) >= 2 and strings.alternatives(node.args[1]) is not None:
        out.append(("step", node.args[1]))
    return out


def page_sources() -> list[Path]:
    """The files whose messages the page can show: ``ui/`` and the package modules it reaches."""
    return [*PAGE_FILES, *(PACKAGE / f"{m}.py" for m in page_modules())]


def templates(files: list[Path] | None = None) -> list[Template]:
    """Every message template in ``files`` (default :func:`page_sources`) that has literal text."""
    out: list[Template] = []
    for path in files or page_sources():
        mod = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        consts = _module_consts(tree)

        found: list[Template] = []
        params: dict[str, list[str]] = {}  # function name -> its parameter names
        calls: list[tuple[ast.Call, _Strings, str]] = []

        def visit(node: ast.AST, scopes: list[dict[str, ast.expr]], qual: str) -> None:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qual = f"{qual}.{node.name}" if qual else node.name
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                scopes = [*scopes, _assigned_strings(node.body)]
                params[node.name] = [a.arg for a in (*node.args.posonlyargs, *node.args.args,
                                                     *node.args.kwonlyargs)]
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id in _NOTE_NAMES):
                strings = _Strings(consts, scopes)
                if strings.alternatives(node.value) is not None:
                    for parts in strings.parts(node.value):
                        found.append(Template(mod, node.lineno, "note", _merge(parts), qual))
            if isinstance(node, ast.Call):
                strings = _Strings(consts, scopes)
                calls.append((node, strings, qual))
                for kind, expr in _message_args(node, strings):
                    for parts in strings.parts(expr):
                        found.append(Template(mod, node.lineno, kind, _merge(parts), qual))
            for child in ast.iter_child_nodes(node):
                visit(child, scopes, qual)

        visit(tree, [], "")
        through, expanded = _through_helpers(found, params, calls)
        out += [tp for tp in found if id(tp) not in expanded] + through
    unique: dict[tuple, Template] = {}
    for tp in out:
        if not any(isinstance(p, str) and p.strip() for p in tp.parts):
            continue  # a message passed on from elsewhere
        unique.setdefault((tp.module, tp.line, tp.via, tp.kind, tp.parts), tp)
    return list(unique.values())


def _through_helpers(found: list[Template], params: dict[str, list[str]],
                     calls: list[tuple[ast.Call, "_Strings", str]]) -> tuple[list[Template], set[int]]:
    """Messages a helper builds from its arguments (``self._not_a_store("the file is ...")``),
    once per call that passes string literals for those arguments; and the ids of the
    helpers' own templates so filled in."""
    out: list[Template] = []
    expanded: set[int] = set()
    for node, strings, qual in calls:
        name = call_name(node)
        if name not in params:
            continue
        names = [p for p in params[name] if p != "self"]
        given = {names[i]: a for i, a in enumerate(node.args) if i < len(names)}
        given.update({k.arg: k.value for k in node.keywords if k.arg})
        values = {k: strings.alternatives(v) for k, v in given.items()}
        values = {k: v for k, v in values.items() if v is not None}
        if not values:
            continue
        def arg(p: object) -> str | None:
            """The argument a placeholder shows: ``{what}``, or ``{message(k)}`` for a function argument."""
            if not isinstance(p, Hole) or p.spec:
                return None
            m = re.fullmatch(r"(\w+)(?:\(.*\))?", p.source)
            return m[1] if m and m[1] in values else None

        for tp in found:
            if not tp.function.endswith(name) or not any(arg(p) for p in tp.parts):
                continue
            options = [values[arg(p)] if arg(p) else [(p,)] for p in tp.parts]
            expanded.add(id(tp))
            for combo in itertools.product(*options):
                parts = _merge(tuple(itertools.chain.from_iterable(combo)))
                out.append(Template(tp.module, tp.line, tp.kind, parts, tp.function, node.lineno))
    return out, expanded


def _merge(parts: tuple) -> tuple:
    merged: list = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        elif p != "":
            merged.append(p)
    return tuple(merged)


# --------------------------------------------------------------------------- sample values
#: Sample values for placeholders whose expression names one of these (first match wins).
_SAMPLES: tuple[tuple[str, object], ...] = (
    (r"\bmode\b", "walk"),
    (r"adcode|\bcode\b", "510104"),
)


def sample(hole: Hole, overrides: dict[str, object] | None = None) -> str:
    """A value for ``hole``: a number formatted as its spec asks, unless the expression says otherwise
    (an override maps a pattern of the expression to a value, or to a function of the match)."""
    value: object = 12
    for pattern, v in (*(overrides or {}).items(), *_SAMPLES):
        m = re.search(pattern, hole.source)
        if m:
            value = v(m) if callable(v) else v
            break
    if hole.conversion == ord("r"):
        return repr(str(value))
    if hole.spec:
        for v in (value, 12, 12.5):
            try:
                return format(v, hole.spec)
            except (ValueError, TypeError):
                continue
    return str(value)


def instance(template: Template, overrides: dict[str, object] | None = None) -> str:
    """``template`` with every placeholder filled by :func:`sample`."""
    return "".join(p if isinstance(p, str) else sample(p, overrides) for p in template.parts).strip()
