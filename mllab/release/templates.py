"""The text files of a student release: its CI workflow, README and ignore files."""

from __future__ import annotations

WORKFLOW = """\
# Runs every exercise's checks on each push: the same as `mllab check --all` on your machine.
# The job fails until every check passes. requirements.txt installs the student edition of
# mllab that this repository carries (wheels/); only CUDA checks are reported as "not run" here.
name: mllab checks
on:
  push:
  pull_request:
  workflow_dispatch:
jobs:
  check:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
          cache: pip
      - name: Install mllab (CPU-only torch keeps the download small)
        run: pip install --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt
      - name: Check every exercise
        run: |
          set -o pipefail
          echo '```' >> "$GITHUB_STEP_SUMMARY"
          mllab check --all --device cpu | tee -a "$GITHUB_STEP_SUMMARY"
          status=$?
          echo '```' >> "$GITHUB_STEP_SUMMARY"
          exit $status
        shell: bash {0}
"""

README = """\
# {title}

Your exercises: each one is a Python file with `# TODO`s to fill in, beside its lesson.

## Start

In a virtual environment (Python 3.10 or newer), at the top of this folder:

```bash
python -m venv .venv && . .venv/bin/activate     # or any environment you like
pip install -r requirements.txt
mllab            # the lab: lessons, checks on every save, hints, live training plots
mllab check      # or check from the shell: the exercise you are on
mllab check --all
mllab doctor     # if something does not work: what is missing, and how to fix it
```

`requirements.txt` installs mllab from `wheels/` in this folder (the student edition: the
course, its checks and recorded reference results, no solutions), with torch and the rest from
PyPI. Without a GPU, `pip install --extra-index-url https://download.pytorch.org/whl/cpu -r
requirements.txt` fetches the much smaller CPU-only torch.

## Exercises

{exercises}

## Checks and grading

Every push runs `mllab check --all` on GitHub Actions (`.github/workflows/mllab.yml`); the job
passes once every check passes. The checks compare your code with reference results recorded
for the public inputs, so you get the same verdicts here as your instructor's grader gives on
those inputs: a check passes or fails, with the reason. Only checks for a GPU are *not run* on
a machine without one.

Your instructor grades with hidden inputs and the real reference solutions, so code that only
reproduces the public answers will not pass. Do not edit `course/`, `wheels/` or the workflow:
grading uses the instructor's own copy.
"""

GITIGNORE = """\
__pycache__/
*.pyc
.venv/
"""

# Keeps the .mllab folder (so `mllab` finds this workspace) but not the progress inside it.
STATE_GITIGNORE = """\
*
!.gitignore
"""
