import pytest

from jpath import PathError, get, parse_path
from lint import check

DOC = {
    "spec": {"containers": [{"image": f"app:{i}", "resources": {"limits": {"memory": "1Gi"}}} for i in range(15)]},
    "metadata": {"labels": {"app.kubernetes.io/name": "shop", 'say "hi"': 1, "back\\slash": 2}},
    "nothing": None,
    "text": "abc",
}


def test_simple_and_nested():
    assert get(DOC, "spec.containers[0].image") == "app:0"
    assert get(DOC, "metadata.labels") is DOC["metadata"]["labels"]


def test_multi_digit_and_negative_index():
    assert get(DOC, "spec.containers[12].image") == "app:12"
    assert get(DOC, "spec.containers[-1].image") == "app:14"
    assert parse_path("a[10][-2]") == ["a", 10, -2]


def test_quoted_keys():
    assert get(DOC, 'metadata.labels["app.kubernetes.io/name"]') == "shop"
    assert get(DOC, 'metadata.labels["say \\"hi\\""]') == 1
    assert get(DOC, 'metadata.labels["back\\\\slash"]') == 2
    assert parse_path('a["x.y"].b') == ["a", "x.y", "b"]


def test_default_for_absent_steps():
    assert get(DOC, "spec.missing", "d") == "d"
    assert get(DOC, "spec.containers[99].image", "d") == "d"
    assert get(DOC, "text.length", "d") == "d"
    assert get(DOC, "text[0]", "d") == "d"
    assert get(DOC, "spec.containers.image", "d") == "d"
    assert get(DOC, "metadata[0]", "d") == "d"
    assert get(DOC, "nothing.deeper", "d") == "d"


def test_none_is_a_value():
    assert get(DOC, "nothing", "d") is None


def test_absent_without_default_raises_key_error():
    for path in ("spec.missing", "spec.containers[99]", "text.length", "metadata[0]"):
        with pytest.raises(KeyError):
            get(DOC, path)


def test_malformed_paths():
    for bad in ("a[", "a[x]", "a..b", 'a["unterminated]', "", "a]"):
        with pytest.raises(PathError):
            get(DOC, bad, "d")


def test_lint_real_manifest():
    manifest = {
        "metadata": {"labels": {"app.kubernetes.io/name": "shop"}},
        "spec": {"containers": [{"image": "web:1.2"}] * 10 + [{"image": "sidecar:latest", "resources": {"limits": {"memory": "64Mi"}}}]},
    }
    problems = check(manifest)
    assert "container 10: pin the image version (sidecar:latest)" in problems
    assert "container 9: set a memory limit" in problems
    assert "container 10: set a memory limit" not in problems
    assert not any("label" in p for p in problems)
    assert check({}) == ["missing label app.kubernetes.io/name"]
