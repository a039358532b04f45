"""README.md's shell examples run as written against a live sandbox `kard-bff serve`.

The convention the README's blocks follow is in tests/readme_examples.py. The server stands in for
`make run` (with `KARD_WEBHOOK_KEY=demo-key`, as the README's webhook section starts it); the
shell session shares its `BFF_STATE_DIR`, as commands run next to `make run` share `instance/`.
"""

import os
import re

import pytest

from tests.readme_examples import (
    Block,
    Shell,
    Step,
    json_mismatches,
    parse_blocks,
    text_matches,
)
from tests.servers import ROOT, ServerProcess

README = (ROOT / "README.md").read_text()
BLOCKS = parse_blocks(README)
WEBHOOK_KEY = "demo-key"


def clean_environment() -> dict[str, str]:
    """This process's environment without any kard-bff setting, as a fresh shell has it."""
    ours = re.compile(r"^(KARD_|BFF_|REDIS_URL$|PORT$)")
    return {name: value for name, value in os.environ.items() if not ours.match(name)}


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    """A shell session next to a live sandbox server, as a reader has with `make run`."""
    state = tmp_path_factory.mktemp("readme-state")
    env = {**clean_environment(), "BFF_STATE_DIR": str(state)}
    server_env = {**env, "KARD_WEBHOOK_KEY": WEBHOOK_KEY}
    server = ServerProcess(["serve"], env=server_env)
    server_env["PORT"] = str(server.port)  # as `PORT=... make run` has it
    with server:
        yield Shell(
            env={**env, "PORT": str(server.port), "PYTHONUNBUFFERED": "1"},
            cwd=ROOT,
            state=tmp_path_factory.mktemp("readme-shell") / "variables.sh",
            port=server.port,
        )


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_example(shell, block: Block):
    if block.not_run:
        pytest.skip(f"README.md:{block.line}: not run: {block.not_run}")
    shell.check(block)


def test_the_readme_starts_with_the_two_commands_then_the_first_five_minutes():
    first, second = BLOCKS[0], BLOCKS[1]
    assert [line.split()[:2] for line in first.steps[0].command.splitlines()] == [
        ["make", "run"],
        ["make", "test"],
    ]
    assert README.index("```sh") < README.index("\n## ")
    assert second.id == "first-five-minutes" and second.not_run is None


def test_every_curl_of_a_url_with_brackets_turns_globbing_off():
    """Unless told -g, curl reads `page[size]` as a pattern, prints nothing and exits 3."""
    bracketed_url = re.compile(r"(localhost|127\.0\.0\.1|https?://)[^\s'\"]*\[")
    globoff = re.compile(r"\s(-[a-zA-Z]*g|--globoff)\b")
    unescaped = [
        f"README.md:{block.line}: {step.command}"
        for block in BLOCKS
        for step in block.steps
        if "curl" in step.command
        and bracketed_url.search(step.command)
        and not globoff.search(step.command)
    ]
    assert unescaped == []


DOCS = ["README.md", *sorted(str(doc.relative_to(ROOT)) for doc in ROOT.glob("docs/*.md"))]


@pytest.mark.parametrize("page", DOCS)
def test_relative_links_point_at_files_that_exist(page):
    path = ROOT / page
    targets = re.findall(r"\]\((?!https?:|#)([^)#]+)", path.read_text())
    assert [target for target in targets if not (path.parent / target).exists()] == []


# The harness itself: it must fail when an example does.


@pytest.fixture
def bare_shell(tmp_path):
    """A shell with no server behind it."""
    return Shell(env=clean_environment(), cwd=tmp_path, state=tmp_path / "variables.sh", port=1)


def block(body: str, *, json_text: str | None = None) -> Block:
    markdown = f"## Try\n\n```sh\n{body}\n```\n"
    if json_text is not None:
        markdown += f"\n```json\n{json_text}\n```\n"
    return parse_blocks(markdown)[0]


@pytest.mark.parametrize(
    ("body", "json_text", "says"),
    [
        ('curl -s "localhost:8000/x?page[size]=1"', None, "exited with 3"),
        ("curl -s localhost:8000/x | cat", None, "exited with 7"),
        ("true\n# something", None, "+++ printed"),
        ("echo '{\"a\": 1}'", '{"a": 2}', "$.a: expected 2, got 1"),
        ('echo \'{"a": 1, "b": 2}\'', '{"a": 1}', "members not shown: b"),
        ("echo '[1]'", '[1, 2, "..."]', "1 items, expected 2 or more"),
        ("echo not json", '{"a": 1}', "printed no JSON"),
        ('echo "$UNSET_VARIABLE"', None, "exited with 1"),
    ],
)
def test_a_failing_or_different_example_fails(bare_shell, body, json_text, says):
    with pytest.raises(AssertionError, match=re.escape(says)):
        bare_shell.check(block(body, json_text=json_text))


def test_variables_carry_from_one_block_to_the_next(bare_shell):
    bare_shell.check(block("GREETING=$(echo hello)\necho ready\n# ready"))
    bare_shell.check(block('echo "$GREETING, world"\n# hello, ...'))


def test_blocks_are_split_into_commands_and_what_they_print():
    parsed = parse_blocks(
        "# Title\n\n<!-- not run: needs Kard -->\n```sh\nmake run\n```\n\n## Next step\n\n"
        '```sh\na \\\n  b\n# one\n#\nc\n```\n\n```json\n{"x": 1}\n```\n'
    )
    assert [(found.id, found.not_run) for found in parsed] == [
        ("title", "needs Kard"),
        ("next-step", None),
    ]
    assert parsed[1].steps == [Step("a \\\n  b", ["one", ""]), Step("c", [], {"x": 1})]


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        ("abc", "abc", True),
        ("a...c", "a\nlong b\nc", True),
        ("a...c", "abd", False),
        ("...", "", True),
    ],
)
def test_text_wildcards(expected, actual, matches):
    assert text_matches(expected, actual) is matches


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        ({"a": "...", "...": "..."}, {"a": [1], "b": 2}, True),
        ({"a": "..."}, {"b": 1}, False),
        ({"token": "eyJ..."}, {"token": "eyJhbGci"}, True),
        ({"token": "eyJ..."}, {"token": "abc"}, False),
        ([1, "..."], [1, 2, 3], True),
        ([1, 2], [1, 2, 3], False),
        ({"n": 1}, {"n": 1.0}, False),
        ({"n": True}, {"n": 1}, False),
    ],
)
def test_json_wildcards(expected, actual, matches):
    assert (json_mismatches(expected, actual) == []) is matches
