import json

from todo.cli import main


def run(capsys, path, *argv):
    code = main(["--file", str(path), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def seed(capsys, path):
    for text in ("buy milk", "call bob", "water plants"):
        assert run(capsys, path, "add", *text.split())[0] == 0


def test_add_unchanged(tmp_path, capsys):
    path = tmp_path / "todo.json"
    assert run(capsys, path, "add", "buy", "milk") == (0, "added #1: buy milk\n", "")


def test_done_marks_and_prints(tmp_path, capsys):
    path = tmp_path / "todo.json"
    seed(capsys, path)
    code, out, err = run(capsys, path, "done", "3", "2")
    assert code == 0 and err == ""
    assert out == "done #3: water plants\ndone #2: call bob\n"
    stored = {raw["id"]: raw["done"] for raw in json.loads(path.read_text())}
    assert stored == {1: False, 2: True, 3: True}


def test_done_twice_is_fine(tmp_path, capsys):
    path = tmp_path / "todo.json"
    seed(capsys, path)
    run(capsys, path, "done", "1")
    assert run(capsys, path, "done", "1") == (0, "done #1: buy milk\n", "")


def test_done_unknown_id_changes_nothing(tmp_path, capsys):
    path = tmp_path / "todo.json"
    seed(capsys, path)
    before = path.read_text()
    code, out, err = run(capsys, path, "done", "1", "7")
    assert code == 1
    assert "error: no item #7" in err
    assert "done #1" not in out
    assert json.loads(path.read_text()) == json.loads(before)


def test_list_shows_boxes(tmp_path, capsys):
    path = tmp_path / "todo.json"
    seed(capsys, path)
    run(capsys, path, "done", "2")
    assert run(capsys, path, "list") == (0, "  1. [ ] buy milk\n  2. [x] call bob\n  3. [ ] water plants\n", "")


def test_list_pending(tmp_path, capsys):
    path = tmp_path / "todo.json"
    seed(capsys, path)
    run(capsys, path, "done", "1", "3")
    assert run(capsys, path, "list", "--pending") == (0, "  2. [ ] call bob\n", "")
    run(capsys, path, "done", "2")
    assert run(capsys, path, "list", "--pending") == (0, "nothing to do\n", "")


def test_list_empty_file(tmp_path, capsys):
    assert run(capsys, tmp_path / "none.json", "list") == (0, "nothing to do\n", "")
