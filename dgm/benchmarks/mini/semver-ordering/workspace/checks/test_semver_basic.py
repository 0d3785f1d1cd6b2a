"""Quick checks the plugin-manager team runs locally: `python3 -m pytest checks`."""

import pytest

from semver import latest, parse


def test_parse_fields():
    v = parse("v1.2.3-rc.1+build.5")
    assert str(v) == "1.2.3-rc.1+build.5"
    assert v.is_prerelease


def test_rejects_garbage():
    with pytest.raises(ValueError):
        parse("1.2")


def test_latest_simple():
    assert latest(["1.0.0", "1.2.0", "1.1.0"]) == "1.2.0"
