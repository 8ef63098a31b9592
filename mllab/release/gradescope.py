"""A Gradescope autograder: the zip Gradescope's "programming assignment" takes, ready to upload.

Gradescope unpacks the zip into /autograder/source, runs `setup.sh` once (as root) to build the
image, then `run_autograder` for each submission, which must leave /autograder/results/results.json.
The zip holds:

  setup.sh, run_autograder          the two scripts; the secret seed and the settings are in the
                                     second one (so the zip is as secret as the seed)
  wheels/mllab_edu-...whl           mllab to install (no course inside it)
  course/exercises/catalog.toml     the course that grades: catalog and lessons,
  course/solutions/, course/checks/  the reference solutions and the checks
  paths.txt                          the learner files, one catalog path a line
  README.md                          what this is, for the next instructor

Each submission is graded by `mllab grade` exactly as a class is graded on your machine (staged:
only the learner files are used), and its results.json becomes Gradescope's. Students may submit
their repository (GitHub, Bitbucket, or a zip of it, which may wrap everything in one folder) or
upload the exercise files alone: a file missing at its catalog path is taken from the top of the
submission when its name is unique. A submission holding none of them gets a results.json that
names the files looked for.
"""

from __future__ import annotations

import io
import json
import shlex
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from mllab.batch.submissions import LITTER_FILES, LITTER_FOLDERS
from mllab.catalog import Catalog
from mllab.paths import CourseDirs
from mllab.release.build import copy_checks, copy_file
from mllab.release.catalog_toml import write_catalog
from mllab.release.wheel import WheelError, build_wheel

TAG = "gradescope"


class BundleError(RuntimeError):
    """The bundle cannot be written; the message says why."""


@dataclass(frozen=True)
class BundleSettings:
    """How Gradescope grades: the secret seed, what students see, the isolation, the limits."""

    seed: int
    visibility: str = "visible"
    hide_expected: bool = False
    isolation: str = "process"
    timeout: float | None = None


SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (choose an Ubuntu
# 22.04 or newer base image: mllab needs Python 3.10 or newer).
set -euo pipefail
cd /autograder/source
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-pip python3-venv {packages}
python3 -m venv /autograder/mllab-venv
# CPU-only torch: Gradescope has no GPU, and the CPU build is a fraction of the download.
/autograder/mllab-venv/bin/pip install --extra-index-url https://download.pytorch.org/whl/cpu \\
    ./wheels/*.whl
/autograder/mllab-venv/bin/mllab --course /autograder/source/course list > /dev/null
"""

RUN = """\
#!/usr/bin/env bash
# Gradescope runs this for each submission: /autograder/submission in, results.json out.
# Written by `mllab release --gradescope`; it holds the secret seed: keep this zip private.
set -u
export PATH=/autograder/mllab-venv/bin:$PATH
work=$(mktemp -d)
mkdir -p "$work/submission" /autograder/results
root=/autograder/submission
# A zipped repository (GitHub's "Download ZIP", a folder compressed by a file manager) wraps
# everything in one folder, with litter such as __MACOSX/ beside it: when no learner file is at
# its catalog path, look inside that folder.
found=0
while IFS= read -r path; do
    if [ -n "$path" ] && [ -e "$root/$path" ]; then found=1; fi
done < /autograder/source/paths.txt
tops=()
for entry in "$root"/* "$root"/.[!.]*; do
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    case "$(basename "$entry")" in {litter}) continue ;; esac
    tops+=("$entry")
done
if [ "$found" = 0 ] && [ "${{#tops[@]}}" = 1 ] && [ -d "${{tops[0]}}" ] \\
    && [ ! -L "${{tops[0]}}" ]; then
    root="${{tops[0]}}"
fi
# Each learner file from its catalog path, or else from the top of the submission.
while IFS= read -r path; do
    [ -n "$path" ] || continue
    source="$root/$path"
    if [ ! -f "$source" ] && [ -f "$root/$(basename "$path")" ] \\
        && [ "$(grep -c "/$(basename "$path")\\$" /autograder/source/paths.txt)" = 1 ]; then
        source="$root/$(basename "$path")"
    fi
    if [ -f "$source" ] && [ ! -L "$source" ]; then
        mkdir -p "$work/submission/$(dirname "$path")"
        cp "$source" "$work/submission/$path"
    fi
done < /autograder/source/paths.txt
if [ -z "$(ls -A "$work/submission")" ]; then
    # Graded, this would read "the submission is empty": say what was looked for instead.
    cat > /autograder/results/results.json <<'EOF'
{nothing}
EOF
    exit 0
fi
mllab --course /autograder/source/course grade "$work/submission" --out "$work/graded" \\
    --jobs 1 --device cpu {options}
results="$work/graded/students/submission/results.json"
if [ -f "$results" ]; then
    cp "$results" /autograder/results/results.json
else
    cat > /autograder/results/results.json <<'EOF'
{{"score": 0.0, "execution_time": 0.0, "visibility": "{visibility}", "output_format": "text",
 "output": "The autograder failed before grading this submission; please tell your instructor.",
 "tests": []}}
EOF
fi
"""

README = """\
# Gradescope autograder for {title}

Upload this zip as the autograder of a Gradescope programming assignment (base image: Ubuntu
22.04 or newer). It grades with the reference solutions and a secret seed, which is written in
`run_autograder`: keep the zip private.

Settings: seed {seed}, visibility {visibility}, expected values on failures
{expected}, isolation {isolation}. Exercises: {exercises}.

Students submit their repository, or upload their exercise files (at their catalog paths or
alone): {paths}. Written by `mllab release --gradescope` (mllab {version}).
"""


def _course(dirs: CourseDirs, catalog: Catalog, ids: list[str], target: Path) -> None:
    """The grading course: catalog and lessons, solutions and checks of the chosen exercises."""
    write_catalog(catalog, ids, target / "exercises" / "catalog.toml")
    for exercise_id in ids:
        exercise = catalog.get(exercise_id)
        for folder, relative in (("exercises", exercise.lesson), ("solutions", exercise.path)):
            source = getattr(dirs, folder) / relative
            if not source.is_file():
                raise BundleError(f"{exercise_id}: {source} is missing")
            copy_file(source, target / folder / relative)
    copy_checks(dirs, ids, target / "checks")


def grade_options(settings: BundleSettings) -> str:
    """The `mllab grade` options run_autograder passes."""
    options = ["--seed", str(settings.seed), "--isolation", settings.isolation]
    options += ["--visibility", settings.visibility]
    if settings.hide_expected:
        options.append("--hide-expected")
    if settings.timeout is not None:
        options += ["--timeout", f"{settings.timeout:g}"]
    return " ".join(shlex.quote(option) for option in options)


def nothing_found(paths: list[str], visibility: str) -> str:
    """The results.json of a submission holding none of the learner files: what was looked for."""
    output = (
        "This submission could not be graded: none of the exercise files is in it. Submit "
        "your repository (the files at their paths), or upload the exercise files themselves: "
        f"{', '.join(paths)}."
    )
    results = {
        "score": 0.0,
        "execution_time": 0.0,
        "visibility": visibility,
        "output_format": "text",
        "output": output,
        "tests": [],
    }
    return json.dumps(results)


def write_bundle(
    out: Path, catalog: Catalog, dirs: CourseDirs, ids: list[str], settings: BundleSettings
) -> Path:
    """Write the autograder zip at `out` (a new file); returns its path."""
    from mllab import __version__

    if out.exists():
        raise BundleError(f"{out} already exists; choose a new file name")
    with tempfile.TemporaryDirectory(prefix="mllab-gradescope-") as scratch:
        root = Path(scratch)
        _course(dirs, catalog, ids, root / "course")
        try:
            build_wheel(root / "wheels", None, TAG)
        except WheelError as exc:
            raise BundleError(str(exc)) from None
        paths = [catalog.get(i).path for i in ids]
        packages = "bubblewrap" if settings.isolation == "bwrap" else ""
        texts = {
            "setup.sh": SETUP.format(packages=packages),
            "run_autograder": RUN.format(
                options=grade_options(settings),
                visibility=settings.visibility,
                nothing=nothing_found(paths, settings.visibility),
                # The same litter `mllab grade` looks past (mllab/batch/submissions.py).
                litter="|".join(sorted(LITTER_FOLDERS | LITTER_FILES)),
            ),
            "paths.txt": "".join(f"{path}\n" for path in paths),
            "README.md": README.format(
                title=catalog.title,
                seed=settings.seed,
                visibility=settings.visibility,
                expected="hidden on secret inputs" if settings.hide_expected else "shown",
                isolation=settings.isolation,
                exercises=", ".join(ids),
                paths=", ".join(f"`{path}`" for path in paths),
                version=__version__,
            ),
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in texts.items():
                entry = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
                executable = name in ("setup.sh", "run_autograder")
                entry.external_attr = (0o755 if executable else 0o644) << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, text)
            for path in sorted(root.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(root).as_posix())
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(buffer.getvalue())
    return out
