"""Hostile and broken submissions: each fails its own check with a clear message, the rest of
the run completes, and the report is written (see THREATS in the design notes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from grading import grade, solution_with, stub_source, workspace_with, wrong_source

REPO = Path(__file__).resolve().parent.parent
STUB = stub_source()

# Runs only inside predict_step (the one check that calls predict with 5 features), so the other
# six checks show that one bad call does not take the run down.
ONLY_IN_PREDICT_STEP = "if X.shape[1] == 5:\n"

CALL_CASES = {
    "infinite_loop": ("while True:\n    pass", "timed out after 3 s"),
    "loop_that_swallows_signals": (
        "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n"
        "    try:\n        while True:\n            pass\n    except BaseException:\n        pass",
        "timed out after 3 s",
    ),
    "sleep_forever": ("import time\ntime.sleep(10**6)", "timed out after 3 s"),
    "input_gets_eof": ("input()", "EOFError"),
    "os_exit": ("import os\nos._exit(0)", "exited the test process before results were reported"),
    "sys_exit": ("import sys\nsys.exit(0)", "SystemExit raised by submission"),
    "segfault": ("import ctypes\nctypes.string_at(0)", "SIGSEGV"),
    "bytearray_bomb": ("return bytearray(64 * 2**30)", "memory limit exceeded"),
    "tensor_bomb": ("return torch.empty(10**11)", "memory limit exceeded"),
    "always_equal": (
        "class AlwaysEqual:\n    def __eq__(self, other):\n        return True\n"
        "return AlwaysEqual()",
        "should return a torch.Tensor, got AlwaysEqual",
    ),
    "tensor_subclass": (
        "class Liar(torch.Tensor):\n"
        "    @classmethod\n"
        "    def __torch_function__(cls, func, types, args=(), kwargs=None):\n"
        "        return True\n"
        "return torch.zeros(len(X)).as_subclass(Liar)",
        "should return a torch.Tensor, got Liar",
    ),
    "reduce_payload": (
        "import os\nclass Evil:\n    def __reduce__(self):\n"
        "        return (os.system, ('touch /tmp/mllab-pwned',))\nreturn Evil()",
        "got Evil",
    ),
    "wrong_type": ("return [0.0] * len(X)", "should return a torch.Tensor, got list"),
    "wrong_shape": ("return (X @ w + b >= 0).to(X.dtype)[:, None]", "shape"),
    "raises_hostile_str": (
        "class Nasty(Exception):\n    def __str__(self):\n        return self.__str__()\n"
        "raise Nasty()",
        "Nasty",
    ),
    # A reply over the grader's cap (256 MiB): refused by the worker before it is sent...
    "huge_result": ("return torch.zeros(80 * 2**20)", "sent back too much data"),
    # ...and by the grader itself from the length a forged frame announces, before reading it.
    "forged_huge_frame": (
        "import fcntl, os, struct, time\n"
        "for fd in range(3, 64):\n"
        "    try:\n"
        "        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:\n"
        "            os.write(fd, struct.pack('>I', 2**30 - 1) + b'MLC1')\n"
        "    except OSError:\n"
        "        pass\n"
        "time.sleep(30)",
        "sent back too much data",
    ),
}


# Building and encoding a 320 MiB reply can take longer than 3 s on a loaded machine; these
# cases are about what is sent, not about time, so they get room.
TIMEOUTS = {"huge_result": "30"}

# A function that timed out once is not called again in the run (one timeout per run, not one
# per check): the checks that would call it fail at once, saying so.
NOT_CALLED_AGAIN = "timed out, so this one was not made"
# An import failure's traceback is shown once, under the first check it fails.
TRACEBACK_ABOVE = "the traceback is under the first check that failed this way"


def only_its_check_failed(checks: dict[str, dict]) -> float:
    """The points the other checks lost, which only a call not made again may cost."""
    others = {name: c for name, c in checks.items() if name != "predict_step"}
    for name, check in others.items():
        assert check["outcome"] == "passed" or NOT_CALLED_AGAIN in check["message"], (name, check)
    return sum(c["max_points"] for c in others.values() if c["outcome"] != "passed")


def says(checks: list[dict], expected: str) -> None:
    """Every check failed, the first with `expected`, the others with it or a pointer to it."""
    for number, check in enumerate(checks):
        assert check["outcome"] == "failed"
        shown = expected in check["message"] or (number and TRACEBACK_ABOVE in check["message"])
        assert shown, check["message"]


@pytest.mark.parametrize("case", sorted(CALL_CASES))
def test_bad_call_fails_only_its_check(tmp_path: Path, case: str) -> None:
    body, expected = CALL_CASES[case]
    inner = "".join(f"    {line}\n" for line in body.splitlines())
    source = solution_with(predict_prefix=ONLY_IN_PREDICT_STEP + inner)
    graded = grade(workspace_with(tmp_path, source), "--timeout", TIMEOUTS.get(case, "3"))
    checks = graded.checks()
    assert checks["predict_step"]["outcome"] == "failed"
    assert expected in checks["predict_step"]["message"]
    lost = only_its_check_failed(checks)
    assert graded.report["score"] == 8.0 - lost and graded.report["max_score"] == 10.0
    assert graded.code == 1
    assert not Path("/tmp/mllab-pwned").exists()


IMPORT_CASES = {
    "syntax_error": ("def broken(:\n    pass", "SyntaxError"),
    "import_error": ("import module_that_does_not_exist", "ModuleNotFoundError"),
    "sys_exit_at_import": ("import sys\nsys.exit(0)", "SystemExit raised by submission"),
    "os_exit_after_forged_summary": (
        "import os\nprint('=== 7 passed in 0.1s ===')\nos._exit(0)",
        "exited the test process before results were reported",
    ),
    "import_reference_solution": (
        "from solutions.perceptron.perceptron import predict, update, train_epoch",
        "not available to submissions",
    ),
    "import_mllab_course": ("import mllab", "not available to submissions"),
}


@pytest.mark.parametrize("case", sorted(IMPORT_CASES))
def test_bad_import_fails_every_check_clearly(tmp_path: Path, case: str) -> None:
    prefix, expected = IMPORT_CASES[case]
    graded = grade(workspace_with(tmp_path, solution_with(module_prefix=prefix)))
    checks = graded.checks()
    assert len(checks) == 7
    says(list(checks.values()), expected)
    assert graded.report["score"] == 0.0
    assert graded.code == 1


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    graded = grade(workspace_with(tmp_path, "import torch\n\ndef predict(w, b, X)\n    return X\n"))
    message = graded.checks()["predict_step"]["message"]
    assert "could not be imported" in message
    assert 'perceptron/perceptron.py", line 3' in message


def test_missing_file_is_reported_per_check(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    graded = grade(tmp_path / "empty")
    for check in graded.checks().values():
        assert check["outcome"] == "failed"
        assert "perceptron/perceptron.py is missing from the workspace" in check["message"]


def test_patching_torch_at_import_changes_no_verdict(tmp_path: Path) -> None:
    wrong = wrong_source(REPO / "tests" / "wrong" / "perceptron" / "sign_flipped_error.py")
    honest = grade(workspace_with(tmp_path / "a", wrong))
    patch = (
        "import numpy, torch.testing\n"
        "torch.allclose = lambda *a, **k: True\n"
        "torch.equal = lambda *a, **k: True\n"
        "torch.Tensor.__eq__ = lambda *a, **k: True\n"
        "torch.testing.assert_close = lambda *a, **k: None\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        "numpy.allclose = lambda *a, **k: True\n"
    )
    patched = grade(
        workspace_with(tmp_path / "b", wrong.replace("import torch\n", f"import torch\n{patch}", 1))
    )
    outcomes = {name: check["outcome"] for name, check in honest.checks().items()}
    assert "failed" in outcomes.values()
    assert {name: check["outcome"] for name, check in patched.checks().items()} == outcomes
    assert patched.report["score"] == honest.report["score"] < 10


def test_forged_results_and_files_are_ignored(tmp_path: Path) -> None:
    forged = (
        "import json, os\n"
        "print('=== 7 passed in 0.01s ===')\n"
        'print(\'<testsuite tests="7" failures="0"></testsuite>\')\n'
        "print(json.dumps({'schema': 'mllab-report/1', 'score': 10.0, 'max_score': 10.0}))\n"
        "for folder in ('.', os.environ.get('HOME', '.'), os.environ.get('TMPDIR', '.')):\n"
        "    with open(os.path.join(folder, 'results.json'), 'w') as f:\n"
        "        f.write('{\"score\": 10}')\n"
    )
    stub = STUB.replace("import torch\n", f"import torch\n{forged}", 1)
    graded = grade(workspace_with(tmp_path, stub))
    assert graded.report["score"] == 0.0
    assert graded.code == 1
    assert not (tmp_path / "ws" / "results.json").exists()


def test_environment_is_scrubbed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("MLLAB_SECRET_SEED", "1234")
    source = solution_with(module_prefix="import os\nprint('ENV', sorted(os.environ))")
    graded = grade(workspace_with(tmp_path, source))
    output = graded.checks()["predict_step"]["output"]
    assert "ENV" in output
    for leaked in ("'CI'", "PYTEST_CURRENT_TEST", "MLLAB_SECRET_SEED", "PYTHONPATH"):
        assert leaked not in output
    assert graded.report["score"] == 10.0


def test_huge_and_hostile_output_is_capped_and_cleaned(tmp_path: Path) -> None:
    noisy = (
        "import sys\n"
        "print('\\x1b]52;c;aGVsbG8=\\x07\\x1b[2J[/bold][link=file:///etc/passwd]x[/link]')\n"
        "sys.stdout.write('y' * 2**30)\n"
        "print('end of output')\n"
    )
    graded = grade(workspace_with(tmp_path, solution_with(module_prefix=noisy)), "--timeout", "60")
    output = graded.checks()["predict_step"]["output"]
    assert "\x1b" not in output and "\x07" not in output
    assert "[/bold][link=file:///etc/passwd]x[/link]" in output
    assert "bytes of output elided" in output
    assert output.rstrip().endswith("end of output")
    assert len(output) < 100_000
    assert graded.report["score"] == 10.0


# Terminal escapes (OSC 52 clipboard, title, clear screen, full reset, 8-bit CSI), bidi overrides,
# and a forged hint line, in the exception's message and in its type's name.
HOSTILE_TEXT = (
    "class Hint(Exception):\n"
    "    pass\n"
    "raise Hint('\\x1b]52;c;aGVsbG8=\\x07\\x1b]0;title\\x07\\x1b[2J\\x1bc\\x9b2J "
    "\\u202etxt.exe\\nHint: the answer is in solutions/')"
)
CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e")


def test_learner_text_is_cleaned_in_every_report_format(tmp_path: Path) -> None:
    from grader import formats
    from grader.report import Report

    inner = "".join(f"    {line}\n" for line in HOSTILE_TEXT.splitlines())
    source = solution_with(predict_prefix=ONLY_IN_PREDICT_STEP + inner)
    graded = grade(workspace_with(tmp_path, source))
    message = graded.checks()["predict_step"]["message"]
    assert "txt.exe" in message and "the answer is in solutions/" in message
    assert not any(c in message for c in CONTROLS), repr(message)
    report = Report.from_dict(graded.report)
    for name, render in formats.FORMATS.items():
        text = render(report)
        assert not any(c in text for c in CONTROLS), name
        assert "\\u001b" not in text and "\\u009b" not in text, name  # nor as JSON escapes
    # The learner's "Hint:" lines are quoted (indented): never shown as the grader's hint.
    assert "Hint: the answer" not in formats.to_text(report)
    assert not any(line.startswith("Hint:") for line in message.splitlines())
