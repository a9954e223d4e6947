"""Unit tables for the fs analyzers, on invocations built from parsed words."""

from __future__ import annotations

import posixpath

import pytest

import guardsh.analyze.disk  # shares shred/tee/cp; must stay out of fs's way
import guardsh.analyze.fs
import guardsh.analyze.fs_write  # noqa: F401  (registers the analyzers)
from guardsh.analyze import fs_paths
from guardsh.analyze.registry import Context
from guardsh.model import Facts, Finding, Invocation, Snapshot, Stdin, Target
from tests.analyze.support import brief_tagged, findings, first_command

LOCAL = Target("local", (("hostname", "web-1"),))
SSH = Target("ssh", (("ssh_host", "web-2"),))
HOME = "/home/alice"


def run(
    line: str,
    *,
    target: Target = LOCAL,
    files: dict[str, str] | None = None,
    cwd: str = "/srv/app",
    stdin: str | None = None,
) -> list[Finding]:
    """Findings of the first top-level command of `line` (words from the real parser)."""
    cmd = first_command(line, HOME)
    prog = posixpath.basename(cmd.words[0].value) if cmd.words else ""
    inv = Invocation(
        prog,
        cmd.words,
        cmd.span,
        target,
        redirects=cmd.redirects,
        cwd=cwd,
        stdin=Stdin(stdin, "pipe:echo") if stdin is not None else None,
    )
    ctx = Context(
        line,
        Snapshot(cwd=cwd, home=HOME, hostname="web-1"),
        Facts((files or {}).get),
        lambda text, tgt, span: [],
    )
    return findings(inv, ctx)


R, D, T, OVER = "fs.delete_recursive", "fs.delete", "fs.truncate", "fs.overwrite"
CM, CO, H, L = "fs.chmod_recursive", "fs.chown_recursive", "high", "low"
P, G, U = "protected-path", "glob", "unknown-object"

FIRING = [
    ("rm -rf /", [(R, "/", H, [P])]),
    ("rm -rf /*", [(R, "/*", H, [G, P])]),
    ("rm -rf /etc/", [(R, "/etc", H, [P])]),
    ("rm -rf /var/lib/docker/volumes/x", [(R, "/var/lib/docker/volumes/x", H, [P])]),
    ("rm -rf /var/lib/apt/lists/*", [(R, "/var/lib/apt/lists/*", H, [G])]),
    ("rm -rf /opt", [(R, "/opt", H, [P])]),
    ("rm -rf /opt/app/cache", [(R, "/opt/app/cache", H, [])]),
    ("rm -rf /data", [(R, "/data", H, [P])]),
    ("rm -rf /home/bob", [(R, "/home/bob", H, [P])]),
    ("rm -rf ~", [(R, HOME, H, [P])]),
    ("rm -rf ~/tmp", [(R, HOME + "/tmp", H, [])]),
    ("rm -rf .", [(R, ".", H, [P])]),
    ("rm -rf ./", [(R, ".", H, [P])]),
    ("rm -r ../..", [(R, "../..", H, [P])]),
    ("rm -rf ./build", [(R, "./build", H, [])]),
    ("rm -rf ${DIR}/", [(R, "${DIR}/", H, [P, U])]),
    ("rm -rf $A$B/*", [(R, "$A$B/*", H, [P, U])]),
    ("rm -rf /home/$USER", [(R, "/home/$USER", H, [P, U])]),
    ("rm -rf $(ls -d /tmp/x*)", [(R, "$(ls -d /tmp/x*)", H, [U])]),
    ("rm -rf --no-preserve-root /", [(R, "/", H, ["no-preserve-root", P])]),
    ("rm -d emptydir", [(D, "emptydir", L, [])]),
    ("rm .*", [(D, ".*", H, [G])]),
    ("rm logs/*", [(D, "logs/*", H, [G])]),
    ("rm logs/*.gz", [(D, "logs/*.gz", L, [G])]),
    ("rm /etc/cron.d/job", [(D, "/etc/cron.d/job", H, [P])]),
    ("rm /dev/sda", [(D, "/dev/sda", H, [P])]),
    ("unlink /etc/localtime", [(D, "/etc/localtime", H, [P])]),
    ("find /srv/data -delete", [(R, "/srv/data", H, [])]),
    ("find . -type d -name __pycache__ -delete", [(R, ". -type d -name __pycache__", H, [P])]),
    ("find -name '*.o' -delete", [(R, ". -name '*.o'", H, [])]),
    ("shred secrets.txt", [(D, "secrets.txt", H, [])]),
    ("shred --remove=wipesync -n1 a b", [(D, "a", H, []), (D, "b", H, [])]),
    ("truncate -s 0 /etc/hosts", [(T, "/etc/hosts", H, [P])]),
    ("truncate -s '<1M' app.log", [(T, "app.log", L, [])]),
    ("truncate --size=/4K app.db", [(T, "app.db", H, [])]),
    ("truncate -s 0K a.log b.log", [(T, "a.log", L, []), (T, "b.log", L, [])]),
    (
        "cp /dev/null /var/lib/pgsql/data/pg_hba.conf",
        [(T, "/var/lib/pgsql/data/pg_hba.conf", H, [P])],
    ),
    ("true > app.log", [(T, "app.log", L, [])]),
    ("echo -n > app.log", [(T, "app.log", L, [])]),
    ("echo x > /etc/passwd", [(OVER, "/etc/passwd", H, [P])]),
    ("cat x >| /boot/grub/grub.cfg", [(OVER, "/boot/grub/grub.cfg", H, [P])]),
    ("make &> /usr/lib/libx.so", [(OVER, "/usr/lib/libx.so", H, [P])]),
    ("tee /etc/sudoers.d/app", [(OVER, "/etc/sudoers.d/app", H, [P])]),
    ("cp -f a /srv/app/b", [(OVER, "/srv/app/b", L, [])]),
    ("cp -t /etc/nginx a.conf b.conf", [(OVER, "/etc/nginx", L, [P])]),
    ("mv --force a b", [(OVER, "b", L, [])]),
    ("ln -sfn /opt/v2 /opt/current", [(OVER, "/opt/current", L, [])]),
    ("mv /etc/nginx/nginx.conf /tmp/", [(D, "/etc/nginx/nginx.conf", L, [P])]),
    ("chmod -R 000 /etc", [(CM, "/etc", H, [P])]),
    ("chmod -R --reference=ref /srv/x", [(CM, "/srv/x", L, [])]),
    ("chmod -Rv go-w /srv/x /srv/y", [(CM, "/srv/x", L, []), (CM, "/srv/y", L, [])]),
    ("chown -R --from=root:root app: /srv/app", [(CO, "/srv/app", L, [])]),
    ("chown -hR 1000 /", [(CO, "/", H, [P])]),
    ("chgrp -R --no-preserve-root wheel /", [(CO, "/", H, ["no-preserve-root", P])]),
    ("rsync -a --delete-excluded src/ /backup/", [(R, "/backup", H, [P])]),
    ("rsync -e 'ssh -p 2222' -a --delete src/ root@db-1:/etc/", [(R, "/etc", H, [P])]),
    ("rsync -a --delete src/ rsync://mirror/module/path", [(R, "/module/path", H, [])]),
]


@pytest.mark.parametrize(("line", "want"), FIRING, ids=[c[0] for c in FIRING])
def test_fires(line: str, want: list[tuple[str, str, str, list[str]]]) -> None:
    assert brief_tagged(run(line)) == want


QUIET = [
    "rm",
    "rm --help",
    "rm --version",
    "rmdir /srv/empty",
    "unlink --help",
    "find . -name '*.log'",
    "find . -exec grep -l delete {} +",
    "find . -name x -ok rm -delete ;",
    "shred /dev/sdb",
    "shred --help",
    "truncate -s 10G disk.img",
    "truncate -s +1G a",
    "truncate -s '>1G' a",
    "truncate -r ref a",
    "truncate -s 0 /dev/sdb",
    "cp a b",
    "cp -r src dst",
    "cp -n a /etc/x",
    "cp -i a /etc/x",
    "cp --backup=numbered a /etc/x",
    "cp --update=none a /etc/x",
    "cp a",
    "mv a b",
    "mv -n a /etc/x",
    "mv a /tmp/",
    "ln -s a b",
    "ln -f a",
    "ln -sfb a /etc/x",
    "tee -a /etc/x",
    "tee /tmp/new",
    "tee",
    "chmod 777 /",
    "chmod -R",
    "chown root /etc/shadow",
    "chgrp staff x",
    "rsync -a src/ dst/",
    "rsync -n --delete a/ b/",
    "rsync --list-only --delete a/ b/",
    "rsync --delete a/",
    "rsync --help",
    "echo hi >> /etc/passwd",
    "echo hi > /dev/null",
    "echo hi 2> /dev/null",
    "echo hi > /proc/sys/vm/drop_caches",
    "echo hi > /sys/class/leds/x/brightness",
    "sort < /etc/passwd",
    "echo hi > new.txt",
    "echo s > /proc/sysrq-trigger",
]


@pytest.mark.parametrize("line", QUIET)
def test_quiet(line: str) -> None:
    found = [f for f in run(line) if not f.action.startswith("disk.")]
    assert found == []


def test_redirect_onto_an_existing_file_is_low() -> None:
    assert brief_tagged(run("ls > out.txt", files={"/srv/app/out.txt": "x"})) == [
        (OVER, "out.txt", L, [])
    ]


def test_only_the_first_redirect_to_a_file_counts() -> None:
    found = run("cmd > a.txt 2> a.txt", files={"/srv/app/a.txt": "x"})
    assert brief_tagged(found) == [(OVER, "a.txt", L, [])]


def test_cp_onto_an_existing_file() -> None:
    assert brief_tagged(run("cp a b", files={"/srv/app/b": "old"})) == [(OVER, "b", L, [])]


def test_relative_paths_resolve_against_cwd() -> None:
    assert brief_tagged(run("rm -rf nginx", cwd="/etc")) == [(R, "nginx", H, [P])]
    assert brief_tagged(run("rm -rf etc", cwd="/")) == [(R, "etc", H, [P])]
    assert brief_tagged(run("rm -f notes.txt", cwd="/")) == [(D, "notes.txt", L, [])]
    assert brief_tagged(run("rm -rf *", cwd="/")) == [(R, "*", H, [G, P])]
    assert brief_tagged(run("rm -rf *", cwd="/srv/app/build")) == [(R, "*", H, [G])]


def test_remote_targets_use_no_local_facts_or_cwd() -> None:
    assert brief_tagged(run("cp a b", target=SSH, files={"/srv/app/b": "x"})) == []
    assert brief_tagged(run("rm -rf etc", target=SSH, cwd="/")) == [(R, "etc", H, [])]
    (f,) = run("rm -rf /var/lib/mysql", target=SSH)
    assert f.target == SSH and P in f.tags


def test_rsync_remote_destination_is_the_target() -> None:
    (f,) = run("rsync -az --delete ./site/ deploy@web-3:/var/www/html/")
    assert f.target == Target("ssh", (("ssh_host", "web-3"), ("ssh_user", "deploy")))
    assert f.object == "/var/www/html"


def test_rsync_remove_source_files_deletes_the_sources() -> None:
    assert brief_tagged(run("rsync -a --remove-source-files in/ /archive/")) == [(D, "in", L, [])]


def test_sysrq_trigger() -> None:
    assert brief_tagged(run("echo b > /proc/sysrq-trigger")) == [("system.reboot", "web-1", H, [])]
    assert brief_tagged(run("echo c > /proc/sysrq-trigger")) == [("system.reboot", "web-1", H, [])]
    assert brief_tagged(run("tee /proc/sysrq-trigger", stdin="o\n")) == [
        ("system.shutdown", "web-1", H, [])
    ]
    assert brief_tagged(run("echo i > /proc/sysrq-trigger")) == [
        ("process.kill", "all processes", H, ["all"])
    ]
    assert brief_tagged(run("cat cmd > /proc/sysrq-trigger")) == [("system.reboot", "web-1", H, [])]


@pytest.mark.parametrize(
    ("path", "want"),
    [
        ("/", True),
        ("/etc", True),
        ("/etc/ssh/sshd_config", True),
        ("/var", True),
        ("/var/log", True),
        ("/var/log/syslog", False),
        ("/var/lib/x/y", True),
        ("/var/lib/apt/lists/foo", False),
        ("/home/bob", True),
        ("/home/bob/x", False),
        ("/srv", True),
        ("/srv/app", False),
        ("/opt/app", False),
        ("/usr/local", True),
        ("/usr/local/src", False),
        ("/tmp", True),
        ("/tmp/x", False),
        ("/run/app.sock", False),
        (HOME, True),
    ],
)
def test_protected(path: str, want: bool) -> None:
    assert fs_paths.protected(path, HOME) is want


def test_relative_top_level_only_for_known_names() -> None:
    assert fs_paths.protected("/etc", None, top_level=False)
    assert not fs_paths.protected("/notes.txt", None, top_level=False)
    assert fs_paths.protected("/notes.txt", None, top_level=True)
