"""The Polyglot loader for the five languages beyond Python, host side (no Docker).

The exercises under tests/data/polyglot are written for these tests in Exercism's layout (one
per language, `digit-sum`); test_polyglot_grading.py grades them in the language images.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dgm.benchmarks import load_suite, polyglot, polyglot_languages
from dgm.benchmarks.task import Task
from dgm.config import BenchmarkConfig, LanguageConfig
from dgm.errors import DgmError
from dgm.evaluation import build_outputs, protect
from dgm.evaluation.results import cargo_manifest
from dgm.sandbox import languages

DATA = Path(__file__).parent / "data" / "polyglot"


@pytest.fixture(scope="module")
def tasks():
    """digit-sum of each language (the other exercises are taken by id from `by_id`)."""
    return {t.id.split("/")[0]: t for t in load_suite(BenchmarkConfig(name="polyglot", path=str(DATA)))
            if t.id.endswith("/digit-sum")}


@pytest.fixture(scope="module")
def by_id() -> dict[str, Task]:
    return {t.id: t for t in load_suite(BenchmarkConfig(name="polyglot", path=str(DATA)))}


def test_all_languages_load_by_default_and_missing_ones_are_skipped(tasks):
    assert sorted(tasks) == ["cpp", "go", "java", "javascript", "rust"]     # no python folder here
    for name, task in tasks.items():
        assert task.image == languages.tag(name)
        assert not any(p.split("/")[0] in (".meta", ".docs") for p in task.workspace)
    with pytest.raises(DgmError, match="python/exercises/practice: not found"):
        load_suite(BenchmarkConfig(name="polyglot", path=str(DATA), languages={"python": LanguageConfig()}))


def test_skipped_tests_are_unskipped_in_the_hidden_copies(tasks):
    assert b"#[ignore]" not in tasks["rust"].hidden_tests["tests/digit-sum.rs"]
    assert b"#[test]\nfn several_digits()" in tasks["rust"].hidden_tests["tests/digit-sum.rs"]
    js = tasks["javascript"].hidden_tests["digit-sum.spec.js"]
    assert b"xtest" not in js and js.count(b"test(") == 3
    java = tasks["java"].hidden_tests["src/test/java/DigitSumTest.java"]
    assert b"@Disabled" not in java and java.count(b"@Test") == 3
    assert "-DEXERCISM_RUN_ALL_TESTS=1" in tasks["cpp"].test_command
    assert "--include-ignored" in tasks["rust"].test_command


def test_commands_name_the_exercise_and_the_test_targets(tasks):
    assert "--test \"$s\"" in tasks["rust"].test_command and "for s in digit-sum;" in tasks["rust"].test_command
    assert "/tmp/dgm-cpp/digit-sum" in tasks["cpp"].test_command
    assert tasks["javascript"].test_command.endswith("--outputFile={report} digit-sum.spec.js")
    assert {name: t.results for name, t in tasks.items()} == {
        "cpp": "junit:all", "go": "go_test_json", "java": "junit", "javascript": "jest_json", "rust": "libtest_logfile"}


def test_reference_files_land_on_the_solution_files(tasks):
    expected = {"go": {"digit_sum.go"}, "rust": {"src/lib.rs"}, "javascript": {"digit-sum.js"},
                "cpp": {"digit_sum.cpp", "digit_sum.h"}, "java": {"src/main/java/DigitSum.java"}}
    for name, task in tasks.items():
        assert set(task.solution_files) == expected[name], name
        assert set(task.solution_files) <= set(task.workspace)


def test_a_helper_class_lands_beside_the_solution_not_on_it(by_id):
    # Listed first, Pair.java used to take the only free .java solution file, PairList.java.
    task = by_id["java/pair-list"]
    assert set(task.solution_files) == {"src/main/java/Pair.java", "src/main/java/PairList.java"}
    assert b"class Pair " in task.solution_files["src/main/java/Pair.java"]
    assert b"class PairList" in task.solution_files["src/main/java/PairList.java"]


def test_an_editor_file_beside_the_solution_does_not_make_its_directory_a_test_location(by_id):
    task = by_id["java/pair-list"]
    assert "src/main/java/BadPairException.java" in task.workspace
    assert "src/main/java/BadPairException.java" in task.protected_paths
    undo = protect.to_revert({"src/main/java/PairList.java", "src/main/java/BadPairException.java"},
                             task.test_paths, set(), protected=task.protected_paths)
    assert undo == {"src/main/java/BadPairException.java": "build file or test-runner hook"}


def test_a_rust_reference_gets_the_crates_of_its_cargo_example_at_any_version(by_id):
    task = by_id["rust/vowel-runs"]
    manifest = task.solution_files["Cargo.toml"].decode()
    # The stub's manifest (its [package] version and [lints] kept) plus the example's crate at `*`.
    assert manifest == task.workspace["Cargo.toml"].decode() + '\n[dependencies]\nregex = "*"\n'
    assert cargo_manifest.harmless_change("Cargo.toml", task.workspace["Cargo.toml"], manifest.encode())
    assert "Cargo.toml" not in by_id["rust/digit-sum"].solution_files      # no Cargo-example.toml
    stub = '[package]\nname = "g"\n\n[dependencies]\nanyhow = "1.0"\n'
    example = '[dependencies]\nanyhow = "1.0"\nthiserror = { version = "1.0", default-features = false }\n'
    assert polyglot_languages.reference_manifest(stub, example) == (
        '[package]\nname = "g"\n\n[dependencies]\nthiserror = { version = "*", default-features = false }\n'
        'anyhow = "1.0"\n')


STUB_MANIFEST = b'[package]\nname = "x"\nversion = "0.1.0"\nedition = "2021"\n'


@pytest.mark.parametrize("after, harmless", [
    (STUB_MANIFEST + b'\n[dependencies]\nregex = "1"\nrand = { version = "0.8", features = ["small_rng"] }\n', True),
    (STUB_MANIFEST.replace(b'"x"', b'"x" ') + b"# a comment\n", True),        # formatting only
    (STUB_MANIFEST + b'\n[dependencies]\nhelper = { path = "helper" }\n', False),     # its build script is the agent's
    (STUB_MANIFEST + b'\n[dependencies]\nx2 = { git = "https://example.invalid/x2" }\n', False),
    (STUB_MANIFEST + b'build = "src/gen.rs"\n', False),
    (STUB_MANIFEST + b'autotests = false\n\n[[test]]\nname = "t"\npath = "src/always.rs"\n', False),
    (STUB_MANIFEST + b'\n[patch.crates-io]\nregex = { path = "r" }\n', False),
    (STUB_MANIFEST + b'\n[dev-dependencies]\nregex = "1"\n', False),
    (b"[package\n", False),                                                     # does not parse
    (None, False),                                                               # deleted
])
def test_only_registry_crates_added_to_dependencies_leave_cargo_toml_unpinned(after, harmless):
    assert cargo_manifest.harmless_change("Cargo.toml", STUB_MANIFEST, after) is harmless


def test_editor_files_stay_visible_and_are_protected_build_files_not_hidden_tests(tasks):
    go = tasks["go"]
    assert "cases_test.go" in go.workspace and "cases_test.go" not in go.hidden_tests
    assert {"cases_test.go", "go.mod", "*_test.go"} <= set(go.protected_paths)
    assert {"package.json", "babel.config.js"} <= set(tasks["javascript"].protected_paths)
    assert {"CMakeLists.txt", "test/catch.hpp", "test/tests-main.cpp"} <= set(tasks["cpp"].protected_paths)
    assert {"build.gradle", "src/test"} <= set(tasks["java"].protected_paths)
    assert {"build.rs", ".cargo"} <= set(tasks["rust"].protected_paths)
    assert "Cargo.toml" not in tasks["rust"].protected_paths      # pinned by the libtest format instead
    for task in tasks.values():
        assert not set(task.solution_files) & set(task.protected_paths)


@pytest.mark.parametrize("path, patterns, hit", [
    ("extra_test.go", ("*_test.go",), True),
    ("sub/dir/zz_test.go", ("*_test.go",), True),
    ("digit_sum.go", ("*_test.go",), False),
    ("src/test/java/Fake.java", ("src/test",), True),
    ("src", ("src/test",), True),                # replacing an ancestor by a file or link
    ("src/main/java/DigitSum.java", ("src/test",), False),
    ("babel.config.mjs", ("babel.config.*",), True),
    ("node_modules/jest/bin/jest.js", ("node_modules",), True),
    (".cargo/config.toml", (".cargo",), True),
])
def test_protected_patterns(path, patterns, hit):
    assert protect.matches_protected(path, patterns) is hit


def test_build_outputs_are_undone_in_every_suite_and_excluded_from_agent_diffs():
    for path in ("target/debug/deps/x", "build/digit-sum", "a/node_modules/m.js", "Foo.class", "x.o",
                 "CMakeCache.txt", "CMakeFiles/x.dir/flags.make"):
        assert build_outputs.is_build_output(path), path
        assert protect.to_revert({path}, ("t_test.py",), set())[path] == "build output"
    for path in ("src/lib.rs", "targets.py", "builder/x.py"):
        assert not build_outputs.is_build_output(path), path
    assert "target/\n" in build_outputs.gitignore() and "*.class\n" in build_outputs.gitignore()


def test_a_language_override_and_an_unknown_results_format():
    cfg = BenchmarkConfig(name="polyglot", path=str(DATA),
                          languages={"go": LanguageConfig(image="my-go", test_command="go test -json ./... > {report}")})
    (task,) = load_suite(cfg)
    assert task.image == "my-go" and task.test_command == "go test -json ./... > {report}" and task.results == "go_test_json"
    assert LanguageConfig(results="junit:all").results == "junit:all"
    with pytest.raises(ValueError, match="unknown results format 'tap'"):
        LanguageConfig(results="tap")


def test_language_list_parsing():
    assert languages.parse_languages("all") == list(languages.LANGUAGES)
    assert languages.parse_languages("rust, go") == ["go", "rust"]
    with pytest.raises(DgmError, match="unknown language.*kotlin"):
        languages.parse_languages("go,kotlin")
    assert polyglot.Language("go").results is None
