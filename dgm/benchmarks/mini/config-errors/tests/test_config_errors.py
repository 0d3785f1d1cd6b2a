import pytest

from appconfig import ConfigError, ConfigNotFoundError, ConfigSyntaxError, ConfigValueError, load_config

GOOD = """\
# worker settings
[server]
port = 9000
debug = yes

[worker]
queues = mail, reports
timeout = 2.5
"""


def write(tmp_path, text):
    path = tmp_path / "worker.ini"
    path.write_text(text)
    return path


def test_valid_file_loads_with_defaults(tmp_path):
    settings = load_config(write(tmp_path, GOOD))
    assert settings["server.port"] == 9000
    assert settings["server.debug"] is True
    assert settings["server.host"] == "127.0.0.1"
    assert settings["worker.queues"] == ["mail", "reports"]
    assert settings["worker.timeout"] == 2.5
    assert settings["worker.concurrency"] == 4


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.ini"
    with pytest.raises(ConfigNotFoundError) as info:
        load_config(missing)
    assert str(info.value.path) == str(missing)
    assert isinstance(info.value, ConfigError)


def test_line_without_equals(tmp_path):
    path = write(tmp_path, "# c\n[server]\n\nport 9000\n")
    with pytest.raises(ConfigSyntaxError) as info:
        load_config(path)
    assert info.value.line_no == 4


def test_empty_key(tmp_path):
    with pytest.raises(ConfigSyntaxError) as info:
        load_config(write(tmp_path, "[server]\n= 5\n"))
    assert info.value.line_no == 2


def test_bad_integer(tmp_path):
    with pytest.raises(ConfigValueError) as info:
        load_config(write(tmp_path, "[server]\nport = eighty\n"))
    assert info.value.key == "server.port"
    assert info.value.value == "eighty"
    assert "an integer" in str(info.value)
    assert isinstance(info.value.__cause__, ValueError)


def test_bad_boolean(tmp_path):
    with pytest.raises(ConfigValueError) as info:
        load_config(write(tmp_path, "[server]\ndebug = maybe\n"))
    assert info.value.key == "server.debug"
    assert "boolean" in str(info.value)


def test_unknown_keys_kept_as_text(tmp_path):
    settings = load_config(write(tmp_path, "[extra]\nname = x = y\n"))
    assert settings["extra.name"] == "x = y"
