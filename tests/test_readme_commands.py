"""What the READMEs tell a newcomer to run installs what it needs from the right place, and
what they write into the checkout stays out of git."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib

import pytest

from speech import REPO

READMES = [REPO / "README.md", REPO / "notebooks/README.md"]

# The distribution that puts each `jupyter <subcommand>` on the PATH.
JUPYTER_COMMANDS = {"lab": "jupyterlab", "nbconvert": "nbconvert", "execute": "nbclient"}


def _notebook_extra() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extra = project["optional-dependencies"]["notebook"]
    return {re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower() for requirement in extra}


def test_no_readme_installs_the_project_from_the_registry() -> None:
    """`transcribe` on PyPI is an unrelated project: a `pip install` of this one names the
    checkout (`.`), never the bare name."""
    installs = []
    for readme in READMES:
        for line in readme.read_text().splitlines():
            for match in re.finditer(r"pip install ([^`\n#]*)", line):
                installs.append((readme.name, match.group(1).strip()))
    assert installs, "the READMEs say how to install the notebook extra"
    for readme, args in installs:
        assert not re.search(r"(^|\s)'?transcribe(\[|\s|'|$)", args), (readme, args)
    assert ("README.md", "-e '.[notebook]'") in installs


def test_the_notebook_extra_has_the_commands_its_readme_runs() -> None:
    extra = _notebook_extra()
    commands = re.findall(r"^jupyter (\w+)", (REPO / "notebooks/README.md").read_text(), re.M)
    assert {"lab", "nbconvert"} <= set(commands)
    for command in commands:
        assert JUPYTER_COMMANDS[command] in extra, (command, sorted(extra))
    assert {"pandas", "matplotlib", "ipykernel"} <= extra  # the notebook's imports, its kernel


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_quick_start_keys_are_ignored_by_git() -> None:
    """The README's quick-start writes private.pem (and public.pem) into the checkout."""
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    for name in ("private.pem", "public.pem"):
        ignored = subprocess.run(["git", "check-ignore", "-q", name], cwd=REPO, check=False)
        assert ignored.returncode == 0, f"{name} is not in .gitignore"
    assert "openssl genrsa -out private.pem" in (REPO / "README.md").read_text()
