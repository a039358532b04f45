"""Run README.md's shell examples as written, and check that they print what the README shows.

The convention the README follows (README.md, "Developing", says it too):

- Every ```sh block runs, top to bottom, in one shell session: a variable one block sets (`TOKEN`)
  is there in the next. Each block runs in `bash` with `set -euo pipefail`, so a command that fails
  (curl's exit 3 on an unescaped `[`, a 401 piped into a parser) fails the block.
- A block whose opening fence comes right after `<!-- not run: REASON -->` is not run.
- `# ` lines right after a command are what it prints (standard output and error, as a terminal
  shows them); a command with none is checked only for its exit code.
- A ```json block right after a ```sh block is what the block's last command prints, compared as
  JSON: members and items as shown, in any key order.
- `...` is a wildcard: in `# ` lines and inside JSON strings it matches any text; the JSON string
  `"..."` matches any value; a member `"...": "..."` stands for any other members and a last item
  `"..."` for any further items.
- `localhost:8000` and `127.0.0.1:8000`, in commands and in what they print, mean the live server.
"""

import difflib
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ANY = "..."
README_PORT = 8000
_NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<reason>.+?)\s*-->")
_FENCE = re.compile(r"^```(?P<lang>\S*)\s*$")
_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*$")
_STEP_END = "\x1e readme step \x1e"
_NO_JSON = object()


@dataclass
class Step:
    """One command (one line or several) of a block and what it should print."""

    command: str
    printed: list[str]
    json: Any = _NO_JSON

    def expected_text(self) -> str | None:
        """The `# ` lines as text, or None when nothing is shown."""
        return "\n".join(self.printed) if self.printed else None


@dataclass
class Block:
    """A ```sh block of the README: where it is, its steps, and why it is not run (if it is not)."""

    id: str
    line: int
    steps: list[Step]
    not_run: str | None


def parse_blocks(markdown: str) -> list[Block]:
    """Every ```sh block of `markdown`, in order, named after the heading it is under."""
    lines = markdown.splitlines()
    blocks: list[Block] = []
    heading, seen = "top", {}
    index = 0
    while index < len(lines):
        if found := _HEADING.match(lines[index]):
            heading = _slug(found["title"])
        fence = _FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        body, end = _fenced(lines, index)
        if fence["lang"] == "sh":
            seen[heading] = seen.get(heading, 0) + 1
            name = heading if seen[heading] == 1 else f"{heading}-{seen[heading]}"
            marker = _NOT_RUN.search(_previous_line(lines, index))
            steps = _steps(body)
            json_start = _next_line_index(lines, end + 1)
            if json_start is not None and lines[json_start].strip() == "```json":
                json_body, end = _fenced(lines, json_start)
                steps[-1].json = json.loads("\n".join(json_body))
            blocks.append(Block(name, index + 1, steps, marker["reason"] if marker else None))
        index = end + 1
    return blocks


def text_matches(expected: str, actual: str) -> bool:
    """Whether `actual` is `expected`, each `...` in it standing for any text."""
    pattern = ".*".join(re.escape(part) for part in expected.split(ANY))
    return re.fullmatch(pattern, actual, re.DOTALL) is not None


def json_mismatches(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Where `actual` differs from `expected` (with the `...` wildcards); [] when it matches."""
    if expected == ANY:
        return []
    if isinstance(expected, dict):
        return _object_mismatches(expected, actual, path)
    if isinstance(expected, list):
        return _list_mismatches(expected, actual, path)
    if isinstance(expected, str) and isinstance(actual, str) and ANY in expected:
        matches = text_matches(expected, actual)
    else:
        matches = type(expected) is type(actual) and expected == actual
    return [] if matches else [f"{path}: expected {expected!r}, got {actual!r}"]


class Shell:
    """A shell session for a README: each block runs in bash, variables carried to the next."""

    def __init__(self, *, env: dict[str, str], cwd: Path, state: Path, port: int):
        self._env = env
        self._cwd = cwd
        self._state = state
        self._port = port
        state.write_text("")

    def live(self, text: str) -> str:
        """`text` with the README's `localhost:8000` pointing at the live server."""
        for host in ("localhost", "127.0.0.1"):
            text = text.replace(f"{host}:{README_PORT}", f"{host}:{self._port}")
        return text

    def check(self, block: Block, timeout: float = 120) -> None:
        """Run `block`'s steps; raise AssertionError when one fails or prints something else."""
        printed = self._run(block, timeout)
        for number, (step, output) in enumerate(zip(block.steps, printed, strict=True), 1):
            problem = self._step_problem(step, output)
            if problem:
                raise AssertionError(
                    f"README.md:{block.line}, step {number}:\n{self.live(step.command)}\n{problem}"
                )

    def _run(self, block: Block, timeout: float) -> list[str]:
        script = ["set -a", f'. "{self._state}"', "set -euo pipefail"]
        for step in block.steps:
            script += [self.live(step.command), f"printf '\\n%s\\n' '{_STEP_END}'"]
        script.append(f'export -p > "{self._state}"')
        result = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            cwd=self._cwd,
            env=self._env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        printed = [part.removeprefix("\n").rstrip("\n") for part in result.stdout.split(_STEP_END)]
        if result.returncode != 0:
            number = len(printed)
            raise AssertionError(
                f"README.md:{block.line}, step {number} exited with {result.returncode}:\n"
                f"{self.live(block.steps[number - 1].command)}\nit printed:\n{printed[-1]}"
            )
        return printed[:-1]

    def _step_problem(self, step: Step, output: str) -> str | None:
        expected = step.expected_text()
        if expected is not None:
            expected = self.live(expected)
            if not text_matches(expected, output):
                return _diff(expected, output)
        if step.json is not _NO_JSON:
            try:
                actual = json.loads(output)
            except ValueError:
                return f"printed no JSON:\n{output}"
            problems = json_mismatches(json.loads(self.live(json.dumps(step.json))), actual)
            if problems:
                return "\n".join([*problems, "it printed:", json.dumps(actual, indent=2)])
        return None


def _object_mismatches(expected: dict, actual: Any, path: str) -> list[str]:
    if not isinstance(actual, dict):
        return [f"{path}: expected an object, got {actual!r}"]
    problems = []
    for key, value in expected.items():
        if key == ANY:
            continue
        if key not in actual:
            problems.append(f"{path}.{key}: missing")
        else:
            problems += json_mismatches(value, actual[key], f"{path}.{key}")
    if expected.get(ANY) != ANY and (extra := [key for key in actual if key not in expected]):
        problems.append(f"{path}: members not shown: {', '.join(extra)}")
    return problems


def _list_mismatches(expected: list, actual: Any, path: str) -> list[str]:
    if not isinstance(actual, list):
        return [f"{path}: expected a list, got {actual!r}"]
    more = bool(expected) and expected[-1] == ANY
    items = expected[:-1] if more else expected
    if len(actual) < len(items) or (not more and len(actual) != len(items)):
        return [f"{path}: {len(actual)} items, expected {len(items)}{' or more' if more else ''}"]
    problems = []
    for number, (want, got) in enumerate(zip(items, actual, strict=False)):
        problems += json_mismatches(want, got, f"{path}[{number}]")
    return problems


def _steps(body: list[str]) -> list[Step]:
    """Split a block into commands, each followed by the `# ` lines it prints."""
    steps: list[Step] = []
    command: list[str] = []
    for line in body:
        if line == "#" or line.startswith("# "):
            if command or not steps:
                steps.append(Step("\n".join(command), []))
                command = []
            steps[-1].printed.append(line[2:])
        else:
            command.append(line)
    if command or not steps:
        steps.append(Step("\n".join(command), []))
    return steps


def _fenced(lines: list[str], start: int) -> tuple[list[str], int]:
    """The lines inside the fence opened at `start`, and the index of its closing fence."""
    for end in range(start + 1, len(lines)):
        if lines[end].strip() == "```":
            return lines[start + 1 : end], end
    raise ValueError(f"README.md:{start + 1}: the code block is never closed")


def _previous_line(lines: list[str], index: int) -> str:
    return lines[index - 1] if index > 0 else ""


def _next_line_index(lines: list[str], start: int) -> int | None:
    return next((at for at in range(start, len(lines)) if lines[at].strip()), None)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _diff(expected: str, actual: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(), actual.splitlines(), "README", "printed", lineterm=""
    )
    return "\n".join(lines)
