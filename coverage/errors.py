"""Error types shared by every loader and model.

A loader collects every problem it finds in an input and raises once with
all of them, each naming the file, the row and the column where it was
found and what to do about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable


@dataclass(frozen=True)
class Problem:
    """One problem found in an input.

    Parameters
    ----------
    message
        What is wrong, in one sentence.
    fix
        What the user should do about it.
    file
        The file (or layer) the problem was found in, if any.
    row
        The row number as a spreadsheet shows it (header is row 1, the first
        data row is row 2), if the problem belongs to one row.
    column
        The column name, if the problem belongs to one column.
    """

    message: str
    fix: str = ""
    file: str | None = None
    row: int | None = None
    column: str | None = None

    def where(self) -> str:
        """Return "file, row N, column 'c'" with the parts that are known."""
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class InputError(ValueError):
    """Raised when an input (file, table, parameter) cannot be used.

    Attributes
    ----------
    problems
        Every problem found, in the order found.
    """

    def __init__(self, problems: Iterable[Problem] | Problem | str, *, fix: str = ""):
        if isinstance(problems, str):
            problems = [Problem(problems, fix=fix)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self._text())

    def _text(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems found:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class InfeasibleError(ValueError):
    """Raised by a model whose constraints cannot all hold, naming which do not."""


@dataclass
class ProblemCollector:
    """Collect problems and raise them together.

    Examples
    --------
    >>> pc = ProblemCollector(file="sites.csv")
    >>> pc.add("population is negative", row=3, column="pop", fix="use a count >= 0")
    >>> pc.raise_if_any()
    Traceback (most recent call last):
    ...
    coverage.errors.InputError: sites.csv, row 3, column 'pop': population is negative Fix: use a count >= 0
    """

    file: str | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def add(self, message: str, *, fix: str = "", row: int | None = None,
            column: str | None = None, file: str | None = None) -> None:
        """Record one problem."""
        self.problems.append(Problem(message, fix, file or self.file, row, column))

    def warn(self, message: str, *, fix: str = "", row: int | None = None,
             column: str | None = None, file: str | None = None) -> None:
        """Record a note that does not stop loading (e.g. dropped network parts)."""
        self.warnings.append(Problem(message, fix, file or self.file, row, column))

    def raise_if_any(self) -> None:
        """Raise :class:`InputError` with every recorded problem, if any."""
        if self.problems:
            raise InputError(self.problems)
