"""Hostile submissions graded in one batch beside an honest one, which still gets full marks.

Two batches for the perceptron, two submissions at a time: one with `--isolation process`, one
with the default, the bwrap sandbox (skipped, with the reason, where bwrap cannot run). Each
hostile submission's expected verdict and message are in HOSTILE_PROCESS and HOSTILE_BWRAP.
"""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import pytest
from grading import REPO, SOLUTION, mllab, solution_with, stub_source

from grader.sandbox.isolation import bwrap_problem

pytestmark = pytest.mark.slow

STUB = stub_source()
PATH = "perceptron/perceptron.py"
DAEMON_SLEEP = "987654"  # a daemon's `sleep` argument, to find it among the machine's processes


def on_stub(prefix: str) -> str:
    return STUB.replace("import torch\n", f"import torch\n{prefix}\n", 1)


# Writes fake results where it can: its scratch folder, HOME, TMPDIR, its own submission folder
# (a path it could guess), at import and again at exit.
FORGED = on_stub(
    "import atexit, json, os\n"
    "print('=== 7 passed in 0.01s ===')\n"
    'print(\'<testsuite tests="7" failures="0" errors="0"></testsuite>\')\n'
    "fake = json.dumps({{'score': 10.0, 'tests': [], 'schema': 'mllab-report/1'}})\n"
    "def forge():\n"
    "    for folder in ('.', os.environ['HOME'], os.environ['TMPDIR'], '{guess}'):\n"
    "        for name in ('results.json', 'junit.xml', 'gradebook.csv', 'record.json'):\n"
    "            try:\n"
    "                with open(os.path.join(folder, name), 'w') as f:\n"
    "                    f.write(fake)\n"
    "            except OSError:\n"
    "                pass\n"
    "forge()\n"
    "atexit.register(forge)\n"
)
PEEKER = solution_with(module_prefix="from solutions.perceptron.perceptron import predict")
DETECTOR = solution_with(
    module_prefix="import os\n"
    "SEEN = sorted(k for k in os.environ if k.startswith(('MLLAB', 'PYTEST', 'CI', 'GITHUB')))\n"
    "print('seen:', SEEN)\n",
    predict_prefix="if SEEN:\n    return torch.zeros(len(X))",
)
# Sleeps after the kill, so it is still importing when it dies with its parent.
PARENT_KILLER = solution_with(
    module_prefix="import os, signal, time\nos.kill(os.getppid(), 9)\ntime.sleep(1)"
)

# student: (source, expected total, expected message in every check, or in the error row)
HOSTILE_PROCESS = {
    "forger": (FORGED, 0, "not implemented yet"),  # formatted with {guess} in the test
    "planter": (STUB, 0, "not implemented yet"),
    "peeker": (PEEKER, 0, "ImportError: solutions is not available to submissions"),
    "detector": (DETECTOR, 10, ""),
    # Its parent is the keeper the warm grader's zygote forked for it (docs/architecture.md).
    "killer": (PARENT_KILLER, 0, "killed the process that started it"),
}
PLANTED = {
    "conftest.py": "import pytest, pathlib\npathlib.Path('{mark}').write_text('conftest ran')\n"
    "@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
    "    report = (yield).get_result()\n    report.outcome = 'passed'\n",
    "sitecustomize.py": "import pathlib\npathlib.Path('{mark}').write_text('sitecustomize ran')\n",
    "usercustomize.py": "import pathlib\npathlib.Path('{mark}').write_text('usercustomize ran')\n",
    "pytest.ini": "[pytest]\naddopts = -p no:mllab --co\n",
    "perceptron/numpy.py": "raise SystemExit('shadowed numpy')\n",
    "perceptron/conftest.py": "raise SystemExit('planted conftest')\n",
    "evil.pth": "import pathlib; pathlib.Path('{mark}').write_text('pth ran')\n",
}


def grade_class(
    tmp_path: Path, sources: dict[str, str], extra_files: dict[str, str], *options: str
) -> dict[str, dict]:
    """Grade `honest` (the reference) and `sources` in one batch; each student's record."""
    students = {"honest": SOLUTION.read_text(), **sources}
    for student, source in students.items():
        (tmp_path / "class" / student / "perceptron").mkdir(parents=True)
        (tmp_path / "class" / student / PATH).write_text(source, encoding="utf-8")
    for relative, text in extra_files.items():
        (tmp_path / "class" / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "class" / relative).write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = mllab(
        "grade",
        *[str(tmp_path / "class" / s) for s in students],
        "--exercise",
        "perceptron",
        "--jobs",
        "2",
        "--seed",
        "7",
        # No verdict here is a timeout; room enough for a fork bomb to reach its process limit
        # on a loaded machine.
        "--timeout",
        "20",
        "--out",
        str(out),
        *options,
        timeout=600,
    )
    assert result.returncode in (0, 1), result.stderr
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        rows = {row["student"] for row in csv.DictReader(handle)}
    assert rows - {"Points Possible"} == set(students)  # and the row of maximum points
    return {
        student: json.loads((out / "students" / student / "record.json").read_text())
        for student in students
    }


def assert_verdict(record: dict, total: float | None, message: str) -> None:
    if total is None:
        assert record["status"] == "error" and message in record["message"], record["message"]
        return
    report = record["report"]
    assert record["status"] == "graded" and report["score"] == total, record
    for number, check in enumerate(report["exercises"][0]["checks"]):
        # An import failure's traceback is shown once, under the first check it fails.
        above = number > 0 and "the traceback is under the first check" in check["message"]
        assert message in check["message"] or above, check["message"]
        assert check["outcome"] == ("passed" if total == 10 else "failed")


def outputs(record: dict) -> str:
    return "".join(c["output"] for c in record["report"]["exercises"][0]["checks"])


def test_hostile_batch_with_process_isolation(tmp_path: Path) -> None:
    mark = tmp_path / "planted-file-ran"
    planted = {f"planter/{name}": text.format(mark=mark) for name, text in PLANTED.items()}
    sources = {student: source for student, (source, _, _) in HOSTILE_PROCESS.items()}
    sources["forger"] = FORGED.format(guess=tmp_path / "class" / "forger")
    records = grade_class(tmp_path, sources, planted, "--isolation", "process")
    assert_verdict(records["honest"], 10, "")
    for student, (_, total, message) in HOSTILE_PROCESS.items():
        assert_verdict(records[student], total, message)
    assert not mark.exists()
    # Its fake files land only where it could write them, and change nothing that was graded.
    forged = {p.parent for p in tmp_path.rglob("junit.xml")} - {tmp_path / "out"}
    assert forged == {tmp_path / "class" / "forger"}
    results = json.loads((tmp_path / "out" / "students" / "forger" / "results.json").read_text())
    assert results["score"] == 0.0 and len(results["tests"]) == 7
    assert "seen: []" in outputs(records["detector"])
    ignored = set(records["planter"]["ignored"])
    assert {"conftest.py", "sitecustomize.py", "pytest.ini", "evil.pth"} <= ignored


# Looks for the reference where a checkout or a wheel keeps it, beside everything on sys.path.
READER = on_stub(
    "import os, sys\n"
    "candidates = ['{solution}', '../../solutions/perceptron/perceptron.py']\n"
    "for entry in sys.path + ['/proc/1/cwd', f'/proc/{os.getppid()}/cwd']:\n"
    "    for inner in ('solutions', 'mllab/_course/solutions', '..', '../solutions'):\n"
    "        candidates.append(os.path.join(entry, inner, 'perceptron/perceptron.py'))\n"
    "for top, dirs, files in os.walk('/'):\n"  # a bounded walk of everything but the system
    "    skip = ('proc', 'sys', 'dev', 'usr', 'etc', 'site-packages', 'lib')\n"
    "    dirs[:] = [d for d in dirs if d not in skip and top.count('/') < 5]\n"
    "    if 'perceptron.py' in files and top.endswith('solutions/perceptron'):\n"
    "        candidates.append(os.path.join(top, 'perceptron.py'))\n"
    "for path in candidates:\n"
    "    if os.path.exists(path):\n"
    "        exec(open(path).read())\n"
    "        break\n"
    "else:\n"
    "    open(candidates[0])\n"
)
FORK_BOMB = on_stub("import os\nwhile True:\n    os.fork()")
# A grandchild in a session of its own, holding stdout open, writes later and sleeps on.
ESCAPER = solution_with(
    module_prefix="import os, time\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        time.sleep(2)\n"
    "        try:\n"
    "            open('{late}', 'w').write('late write')\n"
    "        except OSError:\n"
    "            pass\n"
    f"        os.execv('/bin/sleep', ['sleep', '{DAEMON_SLEEP}'])\n"
    "    os._exit(0)\n"
    "os.wait()\n"
)
NETWORK = on_stub("import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=5)")
FILLER = on_stub(
    "block = b'x' * 2**24\n"
    "for number in range(10**6):\n"
    "    with open(f'fill{number}', 'wb') as f:\n"
    "        f.write(block)"
)
SIGNALLER = solution_with(
    module_prefix="import os\n"
    "for target in (os.getppid(), -1):\n"
    "    try:\n"
    "        os.kill(target, 9)\n"
    "    except OSError as exc:\n"
    "        print('kill', target, exc)\n"
)
WATCHER = solution_with(
    module_prefix="import os\n"
    "SEEN = sorted(k for k in os.environ if k.startswith(('MLLAB', 'PYTEST', 'CI', 'GITHUB')))\n"
    "for pid in filter(str.isdigit, os.listdir('/proc')):\n"
    "    try:\n"
    "        if b'--mllab-seed' in open(f'/proc/{pid}/cmdline', 'rb').read():\n"
    "            SEEN.append(pid)\n"
    "    except OSError:\n"
    "        pass\n"
    "print('seen:', SEEN, 'parent:', os.getppid())\n",
    predict_prefix="if SEEN:\n    return torch.zeros(len(X))",
)

# Outlives the call as a daemon (new session, no parent-death signal) and, for as long as it
# can, writes a forged final event (full marks) into every descriptor of every process it can
# open, and fake results over the batch's output; it also lists what it can of its classmates.
FORGER = on_stub(
    "import ctypes, json, os, time\n"
    "fake = json.dumps({'event': 'run_finished', 'report': {'schema': 'mllab-report/1', "
    "'score': 10.0, 'max_score': 10.0, 'errors': [], 'exercises': []}}) + '\\n'\n"
    "seen = sorted(os.listdir('/tmp')) + sorted(os.listdir('..'))\n"
    "print('listing:', seen)\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        ctypes.CDLL(None).prctl(1, 0)\n"
    "        for _ in range(40):\n"
    "            for pid in filter(str.isdigit, os.listdir('/proc')):\n"
    "                for fd in range(64):\n"
    "                    try:\n"
    "                        with open(f'/proc/{pid}/fd/{fd}', 'w') as f:\n"
    "                            f.write(fake)\n"
    "                    except OSError:\n"
    "                        pass\n"
    "            for name in ('gradebook.csv', 'students/honest/record.json'):\n"
    "                try:\n"
    "                    open(os.path.join('{out}', name), 'w').write(fake)\n"
    "                except OSError:\n"
    "                    pass\n"
    "            time.sleep(0.1)\n"
    "        os._exit(0)\n"
    "    os._exit(0)\n"
)
# Tries to write where a later grader would read: the reference, the checks, torch itself.
POISONER = solution_with(
    module_prefix="import os, torch\n"
    "targets = ['{solution}', '{checks}', torch.__file__]\n"
    "print('writable:', [t for t in targets if os.access(t, os.W_OK)])\n"
)
# Attaches to its parent and to pid 1 with ptrace, and reads their memory and environment.
PTRACER = solution_with(
    module_prefix="import ctypes, os\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "found = []\n"
    "for pid in {{1, os.getppid()}}:\n"
    "    if libc.ptrace(16, pid, 0, 0) == 0:\n"
    "        found.append(f'attached {{pid}}')\n"
    "    for name in ('environ', 'mem'):\n"
    "        try:\n"
    "            open(f'/proc/{{pid}}/{{name}}', 'rb').read(64)\n"
    "            found.append(f'read {{pid}}/{{name}}')\n"
    "        except OSError:\n"
    "            pass\n"
    "print('ptrace:', found)\n".format()
)

HOSTILE_BWRAP = {
    "reader": (READER, 0, "FileNotFoundError"),
    "bomb": (FORK_BOMB, 0, "BlockingIOError: [Errno 11] Resource temporarily unavailable"),
    "escaper": (ESCAPER, 10, ""),
    "network": (NETWORK, 0, "OSError: [Errno 101] Network is unreachable"),
    "filler": (FILLER, 0, "OSError: [Errno 28] No space left on device"),
    "signaller": (SIGNALLER, 10, ""),
    "watcher": (WATCHER, 10, ""),
    "forger": (FORGER, 0, ""),  # its own reply pipe gets its forged lines too
    "poisoner": (POISONER, 10, ""),
    "ptracer": (PTRACER, 10, ""),
}


def daemons() -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes() == f"sleep\0{DAEMON_SLEEP}\0".encode():
                found.append(pid)
        except OSError:
            pass
    return found


@pytest.mark.skipif(bool(bwrap_problem()), reason=f"bwrap isolation: {bwrap_problem()}")
def test_hostile_batch_in_the_default_bwrap_sandbox(tmp_path: Path) -> None:
    late = tmp_path / "late-write"
    sources = {student: source for student, (source, _, _) in HOSTILE_BWRAP.items()}
    sources["reader"] = READER.replace("{solution}", str(SOLUTION))
    sources["escaper"] = ESCAPER.replace("{late}", str(late))
    sources["forger"] = FORGER.replace("{out}", str(tmp_path / "out"))
    checks = REPO / "grader" / "checks" / "test_perceptron.py"
    sources["poisoner"] = POISONER.replace("{solution}", str(SOLUTION)).replace(
        "{checks}", str(checks)
    )
    started = time.monotonic()
    records = grade_class(tmp_path, sources, {})  # no --isolation: the default is the sandbox
    assert_verdict(records["honest"], 10, "")
    for student, (_, total, message) in HOSTILE_BWRAP.items():
        assert_verdict(records[student], total, message)
    assert (
        "could not be imported"
        in records["reader"]["report"]["exercises"][0]["checks"][0]["message"]
    )
    # Its parent is the sandbox's init: no grader, no seed, no classmate in sight.
    assert "seen: [] parent: 1" in outputs(records["watcher"])
    assert "kill -1 [Errno 3] No such process" in outputs(records["signaller"])
    assert "writable: []" in outputs(records["poisoner"])
    assert "ptrace: []" in outputs(records["ptracer"])
    listing = outputs(records["forger"])
    assert "listing:" in listing and "honest" not in listing and "mllab-grade" not in listing
    assert time.monotonic() - started < 300
    time.sleep(3)  # past the daemons' late writes
    assert not late.exists() and daemons() == []
    # The forger's final events and files reached nothing: every record is the grader's own.
    honest = json.loads((tmp_path / "out" / "students" / "honest" / "record.json").read_text())
    assert honest["report"]["score"] == 10.0 and records["forger"]["report"]["score"] == 0.0
    with open(tmp_path / "out" / "gradebook.csv", newline="", encoding="utf-8") as handle:
        book = {row["student"]: row for row in csv.DictReader(handle)}
    assert book["forger"]["total"] == "0" and book["honest"]["total"] == "10"
