"""install.sh: argument errors are fast and clear; a user install works end to end and undoes.

The end-to-end test runs the real script from a copy of this checkout with HOME pointing
at a temporary folder (so it never touches the real ~/.local); it builds a venv and
pip-installs into it, so it is marked slow. pip's cache of the real user is reused.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
INSTALL = REPO / "install.sh"
IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", ".*_cache", ".hypothesis"
)


def _real_home() -> Path:
    # Not Path.home(): a hermetic fixture may already point HOME at a temp folder.
    return Path(pwd.getpwuid(os.getuid()).pw_dir)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env.update(
        HOME=str(home),
        PATH=f"{home}/.local/bin:{env.get('PATH', '/usr/bin:/bin')}",
        PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR", str(_real_home() / ".cache" / "pip")),
        GUARDSH_SKIP_APT="1",
    )
    env.pop("GUARDSH_PYTHON", None)
    env.update(extra)
    return env


def _run(
    argv: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"


# --------------------------------------------------------------------------- fast: bad usage


def test_unknown_option_exits_nonzero_with_usage(tmp_path: Path) -> None:
    proc = _run(["bash", str(INSTALL), "--bogus"], _env(tmp_path))
    assert proc.returncode == 2, _explain(proc)
    assert "unknown option: --bogus" in proc.stderr
    assert "Usage: ./install.sh" in proc.stderr
    assert not (tmp_path / ".local").exists()


def test_help_prints_usage_and_succeeds(tmp_path: Path) -> None:
    proc = _run(["bash", str(INSTALL), "--help"], _env(tmp_path))
    assert proc.returncode == 0, _explain(proc)
    for word in ("--dev", "--system", "--set-shell USER", "--uninstall"):
        assert word in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set-shell", "root"], "--set-shell only works with --system"),
        (["--system", "--set-shell"], "--set-shell needs a USER"),
        (["--dev", "--system"], "--dev and --system exclude each other"),
    ],
)
def test_conflicting_options_are_usage_errors(
    tmp_path: Path, args: list[str], message: str
) -> None:
    proc = _run(["bash", str(INSTALL), *args], _env(tmp_path))
    assert proc.returncode == 2, _explain(proc)
    assert message in proc.stderr


def test_missing_python_is_a_clear_error(tmp_path: Path) -> None:
    env = _env(tmp_path, GUARDSH_PYTHON=str(tmp_path / "no-such-python3"))
    proc = _run(["bash", str(INSTALL)], env)
    assert proc.returncode == 1, _explain(proc)
    assert "python3 not found" in proc.stderr
    assert "apt-get install python3 python3-venv" in proc.stderr


def test_unwritable_home_is_a_clear_error(tmp_path: Path) -> None:
    # A file where a folder must go fails even for root, who ignores permission bits.
    home = tmp_path / "install-home"
    home.write_text("not a folder\n")
    proc = _run(["bash", str(INSTALL)], _env(home))
    assert proc.returncode == 1, _explain(proc)
    assert f"cannot create {home}/.local/share/guardsh: no write access" in proc.stderr


def test_system_mode_needs_root(tmp_path: Path) -> None:
    argv = ["bash", str(INSTALL), "--system"]
    if os.geteuid() == 0:
        # Run a copy as `nobody`; pytest's tmp_path lies in a 0700 folder, so use /tmp.
        runuser = shutil.which("runuser")
        assert runuser, "runuser (util-linux) is needed to test --system as a non-root user"
        base = Path(tempfile.mkdtemp(prefix="guardsh-install-"))
        try:
            base.chmod(0o755)
            shutil.copy(INSTALL, base / "install.sh")
            argv = [runuser, "-u", "nobody", "--", "bash", str(base / "install.sh"), "--system"]
            proc = _run(argv, _env(base))
        finally:
            shutil.rmtree(base)
    else:
        proc = _run(argv, _env(tmp_path))
    assert proc.returncode == 1, _explain(proc)
    assert "--system installs into /opt, /usr/local/bin and /etc: run it as root" in proc.stderr


# --------------------------------------------------------------------------- slow: real install


@pytest.fixture
def checkout() -> Iterator[Path]:
    """A copy of this checkout, so builds never write into the tree under test."""
    base = Path(tempfile.mkdtemp(prefix="guardsh-install-"))
    src = base / "src"
    shutil.copytree(REPO, src, ignore=IGNORE, symlinks=True)
    yield src
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_user_install_is_idempotent_and_uninstalls(tmp_path: Path, checkout: Path) -> None:
    home = tmp_path / "install-home"
    home.mkdir()
    env = _env(home)
    script = str(checkout / "install.sh")
    venv = home / ".local/share/guardsh/venv"
    link = home / ".local/bin/guardsh"
    global_link = Path("/usr/local/bin/guardsh")
    global_before = os.readlink(global_link) if global_link.is_symlink() else None

    proc = _run([script], env, timeout=600)
    assert proc.returncode == 0, _explain(proc)
    assert f"guardsh is installed: {link} -> {venv}/bin/guardsh" in proc.stdout
    assert "chsh -s" in proc.stdout  # how to make it a login shell
    assert link.is_symlink()
    assert os.readlink(link) == f"{venv}/bin/guardsh"
    # ~/.local/bin was on PATH, so nothing outside HOME was touched.
    assert (os.readlink(global_link) if global_link.is_symlink() else None) == global_before

    # The link runs, and the package is a real (not editable) install with its data files.
    help_run = _run([str(link), "--help"], env)
    assert help_run.returncode == 0, _explain(help_run)
    # -I: not the checkout in the current directory, only what the venv has.
    code = "import guardsh, os; print(os.path.dirname(guardsh.__file__))"
    where = _run([str(venv / "bin/python"), "-I", "-c", code], env)
    assert where.returncode == 0, _explain(where)
    installed = Path(where.stdout.strip())
    assert installed.is_relative_to(venv), installed
    assert (installed / "py.typed").is_file()
    for policy in (checkout / "guardsh/policy").glob("*.yaml"):
        assert (installed / "policy" / policy.name).read_bytes() == policy.read_bytes()

    # Idempotent: a second run succeeds and leaves a working install.
    again = _run([script], env, timeout=600)
    assert again.returncode == 0, _explain(again)
    assert _run([str(link), "--help"], env).returncode == 0

    # Uninstall removes the venv and the link; a second uninstall is a no-op, not an error.
    gone = _run([script, "--uninstall"], env)
    assert gone.returncode == 0, _explain(gone)
    assert not link.exists() and not link.is_symlink()
    assert not (home / ".local/share/guardsh").exists()
    assert "uninstalled" in gone.stdout
    assert _run([script, "--uninstall"], env).returncode == 0


def test_user_uninstall_keeps_a_foreign_link(tmp_path: Path) -> None:
    """--uninstall removes only what it made: a guardsh link elsewhere is kept."""
    home = tmp_path / "install-home"
    bin_dir = home / ".local/bin"
    bin_dir.mkdir(parents=True)
    other = tmp_path / "other-guardsh"
    other.write_text("#!/bin/sh\n")
    other.chmod(other.stat().st_mode | stat.S_IXUSR)
    (bin_dir / "guardsh").symlink_to(other)
    proc = _run(["bash", str(INSTALL), "--uninstall"], _env(home))
    assert proc.returncode == 0, _explain(proc)
    assert (bin_dir / "guardsh").is_symlink()
    assert "kept" in proc.stdout
