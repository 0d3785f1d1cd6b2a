import random

from semver import Version, compatible_update, latest, parse

SPEC_ORDER = [
    "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
    "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.9.0", "1.10.0", "2.0.0-rc.1", "2.0.0", "10.0.0",
]


def test_numeric_parts_are_ints():
    v = parse("1.10.3")
    assert (v.major, v.minor, v.patch) == (1, 10, 3)


def test_numeric_comparison():
    assert parse("1.10.0") > parse("1.9.0")
    assert parse("10.0.0") > parse("9.99.99")
    assert latest(["1.9.0", "1.10.0"]) == "1.10.0"


def test_prerelease_below_release():
    assert parse("1.0.0-rc.1") < parse("1.0.0")
    assert parse("1.0.0") > parse("1.0.0-rc.1")
    assert parse("0.9.9") < parse("1.0.0-alpha")


def test_prerelease_identifiers():
    assert parse("1.0.0-alpha.2") < parse("1.0.0-alpha.10")
    assert parse("1.0.0-alpha.1") < parse("1.0.0-alpha.beta")
    assert parse("1.0.0-alpha") < parse("1.0.0-alpha.1")


def test_spec_order_from_shuffled():
    shuffled = SPEC_ORDER[:]
    random.Random(7).shuffle(shuffled)
    assert [str(v) for v in sorted(parse(s) for s in shuffled)] == SPEC_ORDER


def test_build_metadata_ignored():
    assert parse("1.0.0+a") == parse("1.0.0+b")
    assert not parse("1.0.0+a") < parse("1.0.0+b")
    assert str(parse("1.0.0+build.7")) == "1.0.0+build.7"
    assert isinstance(parse("1.0.0"), Version)


def test_latest_and_prereleases():
    versions = ["1.10.0", "2.0.0-rc.1", "1.9.0"]
    assert latest(versions) == "1.10.0"
    assert latest(versions, include_prereleases=True) == "2.0.0-rc.1"


def test_compatible_update():
    available = ["1.9.0", "1.10.0", "1.10.1-beta", "2.0.0", "0.9.0"]
    assert compatible_update("1.9.5", available) == "1.10.0"
    assert compatible_update("1.10.0", available) is None
    assert compatible_update("0.1.0", available) == "0.9.0"
