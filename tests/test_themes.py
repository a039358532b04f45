"""Themes: validation, normalization, base64url encoding, and the encode/decode endpoints."""

import base64
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bff.errors import MAX_REPORTED_ERRORS
from bff.settings import BUNDLED_THEMES_DIR
from bff.themes import codec

GUIDE_EXAMPLE = Path(__file__).parent / "fixtures" / "webview_guide_theming.ts"
BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")


@pytest.fixture
def app(make_app):
    return make_app()


# What a valid theme looks like, generated.

_byte = st.integers(0, 255)
colors = st.one_of(
    st.builds("#{:02x}{:02x}{:02x}".format, _byte, _byte, _byte),
    st.builds("#{:02X}{:02X}{:02X}{:02X}".format, _byte, _byte, _byte, _byte),
    st.builds("rgb({}, {}, {})".format, _byte, _byte, _byte),
    st.builds("rgb({} {} {} / {}%)".format, _byte, _byte, _byte, st.integers(0, 100)),
    st.builds("hsl({}deg {}% {}%)".format, st.integers(0, 360), st.integers(0, 100), _byte),
    st.builds("oklch({:.2f} {:.2f} {})".format, st.floats(0, 1), st.floats(0, 0.4), _byte),
    st.sampled_from(["red", "RebeccaPurple", "transparent", "hwb(120 10% 10%)", "lab(50% 40 59)"]),
)
lengths = st.one_of(
    st.just("0"),
    st.builds("{}{}".format, st.integers(0, 9999), st.sampled_from(["px", "rem", "em", "%", "vh"])),
    st.builds("{:.1f}rem".format, st.floats(0, 10)),
)
labels = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="<>"
    ),
    min_size=1,
    max_size=60,
).filter(lambda text: text.strip() and not any(c in text for c in "\u202a\u202b\u202c\u202d\u202e"))
padded = st.sampled_from(["", " ", "  "])


def _group(names, values):
    return st.dictionaries(st.sampled_from(names), values, max_size=len(names))


def _with_padding(strategy):
    return st.builds(lambda value, left, right: left + value + right, strategy, padded, padded)


valid_themes = st.fixed_dictionaries(
    {},
    optional={
        "theme": st.sampled_from(codec.MODES),
        "styles": st.fixed_dictionaries(
            {},
            optional={
                "light": _group(codec.COLOR_TOKENS, _with_padding(colors)),
                "dark": _group(codec.COLOR_TOKENS, _with_padding(colors)),
                "layout": _group(codec.LAYOUT_TOKENS, _with_padding(lengths)),
            },
        ),
        "labels": _group(codec.LABELS, _with_padding(labels)),
        "layout": st.fixed_dictionaries({}, optional={"showMap": st.booleans()}),
    },
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(valid_themes)
def test_decode_of_encode_is_the_normalized_theme(theme):
    value, normalized = codec.encode(theme)
    assert BASE64URL.match(value)
    assert codec.decode(value) == normalized == codec.normalize(theme)
    assert codec.normalize(normalized) == normalized  # normalizing twice changes nothing
    json_text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    assert json_text == json.dumps(normalized, separators=(",", ":"))  # compact, ASCII-only


def test_the_guides_own_encoder_gives_the_same_value():
    """Run `encodeThemeOverrides` from Kard's WebView guide with node on the guide's example."""
    node = shutil.which("node")
    assert node, "node is needed for this test (make test installs it)"
    script = GUIDE_EXAMPLE.read_text()
    script = script.replace(" as const", "").replace("(overrides: object): string", "(overrides)")
    script = re.sub(
        r"const url = .*", "console.log(JSON.stringify({themeOverrides, themeParam}));", script
    )
    result = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    guide = json.loads(result.stdout)

    value, normalized = codec.encode(guide["themeOverrides"])
    assert value == guide["themeParam"]
    assert normalized == guide["themeOverrides"]
    bundled = json.loads((BUNDLED_THEMES_DIR / "branding.json").read_text())
    assert codec.encode(bundled)[0] == guide["themeParam"]


def test_non_ascii_labels_round_trip_as_ascii_json():
    theme = {
        "labels": {
            "rewardsTitle": "Récompenses",
            "offersTitle": "優惠",
            "nearbyOffersTitle": "🎁 près",
        }
    }
    value, _ = codec.encode(theme)
    json_text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    assert json_text.isascii()
    assert b"R\\u00e9compenses" in json_text and b"\\u512a\\u60e0" in json_text
    assert codec.decode(value) == theme


def test_normalizing_trims_and_drops_empty_groups():
    theme = {
        "theme": "dark",
        "styles": {"light": {}, "dark": {"primary": "  #ABCDEF "}, "layout": {}},
        "labels": {},
        "layout": {"showMap": False},
    }
    assert codec.normalize(theme) == {
        "theme": "dark",
        "styles": {"dark": {"primary": "#ABCDEF"}},
        "layout": {"showMap": False},
    }
    assert codec.normalize({"styles": {"light": {}}}) == {}


@pytest.mark.parametrize(
    "value_of",
    [
        lambda v: v,
        lambda v: v + "=" * (-len(v) % 4),
        lambda v: f"https://webview-test-us-east-1.getkard.com/?token=abc.def&theme={v}",
        lambda v: (
            "https://webview-test-us-east-1.getkard.com/?theme="
            + (v + "=" * (-len(v) % 4)).replace("=", "%3D")
        ),
        lambda v: f"  {v}\n",
    ],
)
def test_decode_takes_bare_values_urls_and_padding(value_of):
    theme = {"theme": "light", "labels": {"offersTitle": "Deals"}}
    value, _ = codec.encode(theme)
    assert codec.decode(value_of(value)) == theme


# Invalid themes: 422, one error per bad field, each with a pointer.

INVALID = [
    ([], [""]),
    ("light", [""]),
    ({"theme": "dim"}, ["/theme"]),
    ({"theme": None}, ["/theme"]),
    ({"thme": "dark"}, ["/thme"]),
    ({"styles": []}, ["/styles"]),
    ({"styles": {"lite": {}}}, ["/styles/lite"]),
    ({"styles": {"light": {"primary": "red; background:url(x)"}}}, ["/styles/light/primary"]),
    ({"styles": {"light": {"primary": "url(x)"}}}, ["/styles/light/primary"]),
    ({"styles": {"light": {"primary": "red/*</style>*/"}}}, ["/styles/light/primary"]),
    ({"styles": {"light": {"primary": "expression(alert(1))"}}}, ["/styles/light/primary"]),
    ({"styles": {"light": {"primary": "#ggg"}}}, ["/styles/light/primary"]),
    ({"styles": {"light": {"primary": "currentcolor"}}}, ["/styles/light/primary"]),
    ({"styles": {"light": {"primary": ""}}}, ["/styles/light/primary"]),
    ({"styles": {"light": {"primary": 255}}}, ["/styles/light/primary"]),
    ({"styles": {"dark": {"primaryColor": "#fff"}}}, ["/styles/dark/primaryColor"]),
    ({"styles": {"layout": {"radius": "-2px"}}}, ["/styles/layout/radius"]),
    ({"styles": {"layout": {"radius": "8"}}}, ["/styles/layout/radius"]),
    ({"styles": {"layout": {"radius": "8 px"}}}, ["/styles/layout/radius"]),
    ({"styles": {"layout": {"radius": "2fr"}}}, ["/styles/layout/radius"]),
    ({"styles": {"layout": {"radius": "calc(1px + 2px)"}}}, ["/styles/layout/radius"]),
    ({"styles": {"layout": {"cardRadius": 8}}}, ["/styles/layout/cardRadius"]),
    ({"styles": {"layout": {"borderRadius": "8px"}}}, ["/styles/layout/borderRadius"]),
    ({"labels": {"rewardsTitle": ""}}, ["/labels/rewardsTitle"]),
    ({"labels": {"rewardsTitle": "   "}}, ["/labels/rewardsTitle"]),
    ({"labels": {"rewardsTitle": "x" * 61}}, ["/labels/rewardsTitle"]),
    ({"labels": {"rewardsTitle": "line\nbreak"}}, ["/labels/rewardsTitle"]),
    ({"labels": {"rewardsTitle": "evil\u202etxt"}}, ["/labels/rewardsTitle"]),
    ({"labels": {"rewardsTitle": "<b>Rewards</b>"}}, ["/labels/rewardsTitle"]),
    ({"labels": {"offersTitle": ["Deals"]}}, ["/labels/offersTitle"]),
    ({"layout": {"showMap": "yes"}}, ["/layout/showMap"]),
    ({"layout": {"showMap": 1}}, ["/layout/showMap"]),
    ({"layout": {"show_map": True}}, ["/layout/show_map"]),
    ({"a/b": 1}, ["/a~1b"]),
    (
        {
            "theme": "dim",
            "styles": {"light": {"primary": "nope", "border": "#fff"}, "layout": {"radius": "x"}},
            "labels": {"offersTitle": ""},
        },
        ["/theme", "/styles/light/primary", "/styles/layout/radius", "/labels/offersTitle"],
    ),
]


@pytest.mark.parametrize(("theme", "pointers"), INVALID)
def test_invalid_themes_are_422_with_pointers(client, theme, pointers):
    response = client.post("/api/v1/themes/encode", json=theme)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [error["source"]["pointer"] for error in errors] == pointers
    assert all(error["status"] == "422" and error["detail"] for error in errors)


def test_a_typo_gets_the_closest_name(client):
    errors = client.post("/api/v1/themes/encode", json={"labels": {"rewardTitle": "x"}}).get_json()
    assert "Did you mean 'rewardsTitle'?" in errors["errors"][0]["detail"]
    assert "allowed: rewardsTitle, nearbyOffersTitle, offersTitle" in errors["errors"][0]["detail"]


def test_too_large_a_theme_is_refused_clearly():
    long_color = "color(display-p3 " + " ".join(["0.12345678901234567"] * 3) + " / 0.1234567)"
    theme = {
        "styles": {
            "light": dict.fromkeys(codec.COLOR_TOKENS, long_color),
            "dark": dict.fromkeys(codec.COLOR_TOKENS, long_color),
        },
        "labels": dict.fromkeys(codec.LABELS, "優" * 60),  # each one \uXXXX in the JSON
    }
    with pytest.raises(codec.ThemeError, match=r"encoded theme is \d+ characters; at most 4096"):
        codec.encode(theme)
    with pytest.raises(codec.ThemeError, match="longer than 4096"):
        codec.decode("A" * 5000)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64!",
        "eyJ0aGVtZSI6",  # truncated JSON
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        base64.urlsafe_b64encode(b'{"theme": "dim"}').decode(),
        "https://webview.example.com/?token=abc",
    ],
)
def test_bad_values_do_not_decode(value):
    with pytest.raises(codec.ThemeError):
        codec.decode(value)


def test_encode_and_decode_endpoints(client):
    theme = {"theme": "dark", "labels": {"offersTitle": " Deals "}}
    encoded = client.post("/api/v1/themes/encode", json=theme).get_json()
    assert encoded["json"] == {"theme": "dark", "labels": {"offersTitle": "Deals"}}
    assert client.post("/api/v1/themes/decode", json={"theme": encoded["theme"]}).get_json() == {
        "json": encoded["json"]
    }
    url = f"https://webview-test-us-east-1.getkard.com/?token=t&theme={encoded['theme']}"
    assert (
        client.post("/api/v1/themes/decode", json={"url": url}).get_json()["json"]
        == encoded["json"]
    )


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, ""),
        ({"theme": "x", "url": "y"}, ""),
        ({"value": "x"}, "/value"),
        ({"theme": 42}, ""),
        ({"theme": "%%%"}, "/theme"),
        ({"url": "https://x/?token=a"}, "/url"),
    ],
)
def test_decode_endpoint_errors(client, body, pointer):
    response = client.post("/api/v1/themes/decode", json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["source"]["pointer"] == pointer


def test_an_encoded_themes_fields_are_pointed_at_inside_it(client):
    inner = base64.urlsafe_b64encode(b'{"labels": {"offersTitle": ""}}').decode()
    response = client.post("/api/v1/themes/decode", json={"url": f"https://w/?theme={inner}"})
    assert response.status_code == 422
    assert response.get_json() == {
        "errors": [
            {
                "status": "422",
                "title": "Invalid theme",
                "detail": "A label must be 1 to 60 characters after trimming.",
                "source": {"pointer": "/labels/offersTitle"},
            }
        ]
    }
    not_an_object = base64.urlsafe_b64encode(b"[1, 2]").decode()
    response = client.post("/api/v1/themes/decode", json={"theme": not_an_object})
    assert response.get_json()["errors"] == [
        {
            "status": "422",
            "title": "Invalid theme",
            "detail": "A theme must be a JSON object.",
            "source": {"pointer": "/theme"},
        }
    ]


def _encoded(theme) -> str:
    return base64.urlsafe_b64encode(json.dumps(theme).encode()).decode()


@pytest.mark.parametrize(
    ("read", "value", "pointers"),
    [
        (
            codec.encode,
            {"labels": {"offersTitle": ""}, "theme": "dim"},
            ["/x/labels/offersTitle", "/x/theme"],
        ),
        (codec.encode, [], ["/x"]),
        (codec.decode, "%%%", ["/x"]),
        (codec.decode, "https://w/?token=t", ["/x"]),
        (codec.decode, _encoded({"layout": {"showMap": 1}}), ["/layout/showMap"]),
        (codec.decode, _encoded("light"), ["/x"]),
    ],
)
def test_problems_point_into_the_document_the_theme_came_in(read, value, pointers):
    with pytest.raises(codec.ThemeError) as caught:
        read(value, pointer="/x")
    assert [problem.pointer for problem in caught.value.problems] == pointers


def test_named_themes(client):
    listed = client.get("/api/v1/themes").get_json()["themes"]
    names = [theme["name"] for theme in listed]
    assert {"branding", "high-contrast"} <= set(names)
    one = client.get("/api/v1/themes/high-contrast").get_json()
    assert one == next(theme for theme in listed if theme["name"] == "high-contrast")
    assert codec.decode(one["theme"]) == one["json"]
    assert client.get("/api/v1/themes/nope").status_code == 404


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
theme_like = st.fixed_dictionaries(
    {},
    optional={
        "theme": json_values,
        "styles": st.dictionaries(st.sampled_from(["light", "dark", "layout", "x"]), json_values),
        "labels": st.dictionaries(st.sampled_from([*codec.LABELS, "y"]), json_values),
        "layout": json_values,
    },
)


@settings(
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.one_of(json_values, theme_like))
def test_fuzzed_theme_bodies_never_give_a_500(client, body):
    raw = json.dumps(body)  # the standard library's JSON: integers of any size, like any client
    response = client.post("/api/v1/themes/encode", data=raw, content_type="application/json")
    assert response.status_code in (200, 400, 422)  # 400: JSON numbers orjson cannot hold
    assert response.get_json()["errors" if response.status_code != 200 else "theme"]


@pytest.mark.parametrize(
    "raw", [b'{"theme": 123456789012345678901234567890}', b'{"theme": 1e999}', b"null", b""]
)
def test_unreadable_numbers_and_empty_bodies_are_client_errors(client, raw):
    response = client.post("/api/v1/themes/encode", data=raw, content_type="application/json")
    assert response.status_code in (400, 422)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_fuzzed_decode_values_never_give_a_500(client, value):
    response = client.post("/api/v1/themes/decode", json={"theme": value})
    assert response.status_code in (200, 422)


def test_the_pages_theme_schema_matches_the_bffs():
    """The studio and the stand-in read their token names from static/theme-schema.js."""
    schema = Path(__file__).resolve().parents[1] / "static" / "theme-schema.js"
    script = (
        f"const m = await import({json.dumps(schema.as_uri())});"
        "console.log(JSON.stringify({colors: m.COLOR_TOKENS.map((t) => t[0]),"
        " radii: m.RADIUS_TOKENS.map((t) => t[0]), labels: m.LABELS.map((t) => t[0])}));"
    )
    node = shutil.which("node")
    assert node, "node is needed for this test (make test installs it)"
    result = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "colors": list(codec.COLOR_TOKENS),
        "radii": list(codec.LAYOUT_TOKENS),
        "labels": list(codec.LABELS),
    }


def _many_unknown_keys(count: int) -> dict:
    return {f"k{number:05d}": 0 for number in range(count)}  # about 10 bytes a key


def test_problems_past_the_bound_are_counted_not_described():
    with pytest.raises(codec.ThemeError) as caught:
        codec.normalize({"labels": _many_unknown_keys(120), "theme": "dim"})
    problems = caught.value.problems
    assert len(problems) == MAX_REPORTED_ERRORS
    assert all("allowed: rewardsTitle" in problem.detail for problem in problems)
    assert caught.value.unreported == 71  # 70 more keys, and the bad mode


def test_90000_unknown_keys_get_51_errors_in_a_small_answer(client):
    theme = _many_unknown_keys(90_000)
    started = time.process_time()
    response = client.post("/api/v1/themes/encode", json=theme)
    spent = time.process_time() - started
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert len(errors) == MAX_REPORTED_ERRORS + 1
    assert errors[0]["source"] == {"pointer": "/k00000"}
    assert errors[-1] == {
        "status": "422",
        "title": "Invalid theme",
        "detail": "... and 89,950 more problems.",
    }
    assert len(response.data) < 20_000
    assert spent < 0.3  # a did-you-mean per key took about 1 s


def test_the_webview_sessions_theme_errors_are_bounded_too(client):
    token = client.post("/dev/session", json={"userId": "u"}).get_json()["token"]
    response = client.post(
        "/api/v1/webview/session",
        headers={"Authorization": f"Bearer {token}"},
        json={"theme": _many_unknown_keys(1000)},
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert len(errors) == MAX_REPORTED_ERRORS + 1
    assert errors[0]["source"] == {"pointer": "/theme/k00000"}
    assert errors[-1]["detail"] == "... and 950 more problems."
