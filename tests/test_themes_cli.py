"""`kard-bff theme encode` and `theme decode`: the codec on the command line."""

import json

import pytest

from bff.cli import main


def test_cli_theme_encode_and_decode(runner, tmp_path):
    path = tmp_path / "theme.json"
    path.write_text(json.dumps({"theme": "light", "labels": {"rewardsTitle": " Récompenses "}}))
    encoded = runner.invoke(main, ["theme", "encode", str(path)])
    assert encoded.exit_code == 0
    value = encoded.output.strip()
    decoded = runner.invoke(main, ["theme", "decode", f"https://w/?token=t&theme={value}"])
    assert decoded.exit_code == 0
    assert json.loads(decoded.output) == {
        "theme": "light",
        "labels": {"rewardsTitle": "Récompenses"},
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON (line 1, column 2"),
        ('{"theme": "dim", "layout": {"showMap": "no"}}', "invalid theme\n  /theme: "),
    ],
)
def test_cli_theme_encode_errors(runner, tmp_path, content, message):
    path = tmp_path / "theme.json"
    if content is not None:
        path.write_text(content)
    result = runner.invoke(main, ["theme", "encode", str(path)])
    assert result.exit_code == 1
    assert message in result.output
    if "invalid theme" in message:
        assert "/layout/showMap: showMap must be true or false." in result.output


def test_cli_theme_decode_error(runner):
    result = runner.invoke(main, ["theme", "decode", "%%%"])
    assert result.exit_code == 1
    assert "invalid theme value" in result.output
