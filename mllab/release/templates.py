"""The text files of a student release: its CI workflow, README and ignore files."""

from __future__ import annotations

WORKFLOW = """\
# Runs every exercise's checks on each push: the same as `mllab check --all` on your machine.
# The job fails until every check passes; checks that need the reference solution are reported
# as "not run" (your instructor grades those), never as failures.
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

In a virtual environment (Python 3.10 or newer), in this folder:

```bash
pip install -r requirements.txt
mllab            # the lab: lessons, checks on every save, hints, live training plots
mllab check      # or check from the shell: the exercise you are on
mllab check --all
```

## Exercises

{exercises}

## Checks and grading

Every push runs `mllab check --all` on GitHub Actions (`.github/workflows/mllab.yml`); the job
passes once every check passes. The checks compare your code with reference results recorded
for the public inputs. A few checks need the reference solution itself (for example when they
feed your own results back to it): those are reported as *not run: needs the reference solution:
graded by your instructor*, never as failures.

Your instructor grades with hidden inputs and the real reference solutions, so code that only
reproduces the public answers will not pass. Do not edit `course/` or the workflow: grading uses
the instructor's own copy.
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
