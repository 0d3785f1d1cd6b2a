"""Which changes to pytest's start-up configuration a patch may make without being pinned.

Why this exists: a start-up config the diff touched (setup.cfg, pyproject.toml, ...) is pinned to
its starting version while pytest starts, because options such as `addopts = -p evil` or
`pythonpath` load the agent's code before the grader's recorder and can rewrite every outcome.
But real fixes change these files too: a gold patch that registers a marker its new test uses
under `--strict-markers` fails if pytest never sees the marker. The official SWE-bench harness
runs pytest on the patched file as it is. So a file whose pytest section changed only in keys that
cannot load code or choose what runs (markers, warning filters, logging, report cosmetics) is left
as the agent wrote it; any other change, or a file that does not parse, keeps it pinned.

The sections are the ones pytest itself reads (`load_config_dict_from_file`): `[pytest]` of
pytest.ini/.pytest.ini/tox.ini, `[tool:pytest]` of setup.cfg, `[tool.pytest.ini_options]` of
pyproject.toml. Other sections (packaging metadata, flake8, ...) never reach pytest.
"""

from __future__ import annotations

import configparser
import tomllib

# Keys whose value cannot import a module, add to sys.path, choose files to collect, or change how
# an outcome is classified. filterwarnings can name a warning class by module (imported at test
# time, as the code under test would be); everything it does happens after the recorder loaded.
SAFE_KEYS = frozenset({"markers", "filterwarnings", "minversion", "console_output_style",
                       "doctest_encoding", "doctest_optionflags", "empty_parameter_set_mark",
                       "required_plugins", "faulthandler_timeout"})
SAFE_PREFIXES = ("log_", "junit_")


class Unreadable(ValueError):
    """The file does not parse as pytest would need it to: keep it pinned."""


def pytest_section(name: str, data: bytes | None) -> dict[str, str] | None:
    """The pytest options in config file `name` (its base name) with content `data`, or None when
    the file is absent or has no pytest section. Values are normalised so formatting does not count."""
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable(f"{name} is not UTF-8") from None
    if name == "pyproject.toml":
        try:
            options = tomllib.loads(text).get("tool", {}).get("pytest", {}).get("ini_options")
        except tomllib.TOMLDecodeError as err:
            raise Unreadable(f"{name}: {err}") from None
        if options is None:
            return None
        if not isinstance(options, dict):
            raise Unreadable(f"{name}: [tool.pytest.ini_options] is not a table")
        return {str(k): _normal(v) for k, v in options.items()}
    section = "tool:pytest" if name == "setup.cfg" else "pytest"
    parser = configparser.RawConfigParser(strict=False, interpolation=None, comment_prefixes=("#", ";"),
                                          inline_comment_prefixes=None)
    parser.optionxform = str          # pytest's ini keys are case-sensitive
    try:
        parser.read_string(text)
    except configparser.Error as err:
        raise Unreadable(f"{name}: {err}".splitlines()[0]) from None
    if not parser.has_section(section):
        return None
    return {k: _normal(v) for k, v in parser.items(section)}


def _normal(value: object) -> str:
    if isinstance(value, list):
        return "\n".join(_normal(v) for v in value)
    return "\n".join(line.strip() for line in str(value).strip().splitlines() if line.strip())


def _safe(key: str) -> bool:
    return key in SAFE_KEYS or key.startswith(SAFE_PREFIXES)


def harmless_change(name: str, before: bytes | None, after: bytes | None) -> bool:
    """True when pytest may read the agent's version of `name` as it is: its pytest section differs
    from the starting one only in SAFE_KEYS. A file added with a pytest section of safe keys only
    is harmless too (it may become the ini file; what it drops from the old one loads no code)."""
    try:
        old, new = pytest_section(name, before), pytest_section(name, after)
    except Unreadable:
        return False
    old, new = old or {}, new or {}
    return all(_safe(key) for key in set(old) | set(new) if old.get(key) != new.get(key))
