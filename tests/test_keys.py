"""The BFF's own keys: signatures, seals and names, and their rotation."""

import pytest

from bff.keys import Keys
from bff.settings import ConfigError, load_settings

OLD, NEW = "o" * 32, "n" * 32


def test_a_signature_verifies_with_its_key_and_after_rotation_only():
    signature = Keys([OLD]).sign("POST\noffers/1/renew\n")
    assert Keys([OLD]).verify("POST\noffers/1/renew\n", signature)
    assert Keys([NEW, OLD]).verify("POST\noffers/1/renew\n", signature)
    assert not Keys([NEW]).verify("POST\noffers/1/renew\n", signature)
    assert not Keys([OLD]).verify("POST\noffers/2/renew\n", signature)


def test_a_seal_opens_with_its_key_only_and_hides_its_text():
    sealed = Keys([OLD]).seal("a-token")
    assert "a-token" not in sealed
    assert Keys([NEW, OLD]).open(sealed) == "a-token"
    assert Keys([NEW]).open(sealed) is None
    assert Keys([OLD]).open(sealed[:-4] + "AAAA") is None
    assert Keys([OLD]).open("not sealed") is None


def test_names_are_stable_opaque_and_differ_by_key():
    assert Keys([OLD]).name("user-1") == Keys([OLD, NEW]).name("user-1")
    assert Keys([OLD]).name("user-1") != Keys([NEW]).name("user-1")
    assert "user" not in Keys([OLD]).name("user-1")


@pytest.mark.parametrize("value", ["short", f"{NEW},short"])
def test_a_short_secret_key_stops_the_start(value):
    with pytest.raises(ConfigError, match="BFF_SECRET_KEY"):
        load_settings({"BFF_SECRET_KEY": value})


def test_secret_keys_are_a_comma_list():
    assert load_settings({"BFF_SECRET_KEY": f"{NEW}, {OLD}"}).secret_keys == (NEW, OLD)
    assert load_settings({}).secret_keys == ()
