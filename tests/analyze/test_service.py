"""Unit tables for the service/system analyzers, on hand-built invocations."""

from __future__ import annotations

import pytest

import guardsh.analyze.service
import guardsh.analyze.service_cron  # noqa: F401  (registers the analyzers)
from guardsh.model import Severity, Target
from tests.analyze.support import brief, run

H, L = "high", "low"

FIRING = [
    ("systemctl stop nginx.service", [("service.stop", "nginx.service", H)]),
    ("systemctl stop myapp", [("service.stop", "myapp", L)]),
    ("systemctl stop postgresql@15-main", [("service.stop", "postgresql@15-main", H)]),
    (
        "systemctl stop myapp postgresql",
        [("service.stop", "myapp", L), ("service.stop", "postgresql", H)],
    ),
    ("systemctl --user stop postgresql", [("service.stop", "postgresql", L)]),
    ("systemctl stop 'postgres*'", [("service.stop", "postgres*", H)]),
    ("systemctl freeze '*'", [("service.stop", "*", H)]),
    ("systemctl kill --signal 9 mysqld", [("service.stop", "mysqld", H)]),
    ("systemctl kill -s SIGHUP --kill-whom main nginx", [("service.restart", "nginx", L)]),
    ("systemctl mask nginx", [("service.stop", "nginx", H), ("service.disable", "nginx", H)]),
    ("systemctl mask --now cups", [("service.stop", "cups", L), ("service.disable", "cups", L)]),
    ("systemctl restart nginx", [("service.restart", "nginx", L)]),
    ("systemctl reload-or-restart a b", [("service.restart", "a", L), ("service.restart", "b", L)]),
    ("systemctl restart networking", [("service.restart", "networking", H)]),
    ("systemctl try-restart systemd-networkd", [("service.restart", "systemd-networkd", H)]),
    ("systemctl disable cups", [("service.disable", "cups", L)]),
    (
        "systemctl disable --now docker",
        [("service.disable", "docker", L), ("service.stop", "docker", H)],
    ),
    ("systemctl isolate rescue.target", [("system.shutdown", "web-1", H)]),
    ("systemctl isolate graphical.target", [("service.stop", "graphical.target", L)]),
    ("systemctl emergency", [("system.shutdown", "web-1", H)]),
    ("systemctl poweroff -f --no-wall", [("system.shutdown", "web-1", H)]),
    ("systemctl halt --when +2h", [("system.shutdown", "web-1", H)]),
    ("systemctl reboot", [("system.reboot", "web-1", H)]),
    ("systemctl kexec", [("system.reboot", "web-1", H)]),
    ("systemctl suspend", [("system.shutdown", "web-1", H)]),
    ("systemctl $ACTION postgresql", [("service.stop", "$ACTION postgresql", L)]),
    ("systemctl stop $SVC", [("service.stop", "$SVC", L)]),
    ("service nginx stop", [("service.stop", "nginx", H)]),
    ("service myapp restart", [("service.restart", "myapp", L)]),
    ("service nginx --full-restart", [("service.restart", "nginx", L)]),
    ("service network restart", [("service.restart", "network", H)]),
    ("/etc/init.d/mysql stop", [("service.stop", "mysql", H)]),
    ("/etc/init.d/myapp reload", [("service.restart", "myapp", L)]),
    ("rc-service nginx stop", [("service.stop", "nginx", H)]),
    ("invoke-rc.d --force redis-server stop", [("service.stop", "redis-server", H)]),
    ("rc-update del nginx default", [("service.disable", "nginx", L)]),
    ("update-rc.d myapp disable", [("service.disable", "myapp", L)]),
    ("chkconfig httpd off", [("service.disable", "httpd", L)]),
    ("shutdown -h now", [("system.shutdown", "web-1", H)]),
    ("shutdown", [("system.shutdown", "web-1", H)]),
    ("shutdown -r +5 'kernel update'", [("system.reboot", "web-1", H)]),
    ("shutdown --reboot now", [("system.reboot", "web-1", H)]),
    ("reboot", [("system.reboot", "web-1", H)]),
    ("reboot --halt", [("system.shutdown", "web-1", H)]),
    ("halt --reboot", [("system.reboot", "web-1", H)]),
    ("poweroff -f", [("system.shutdown", "web-1", H)]),
    ("init 0", [("system.shutdown", "web-1", H)]),
    ("telinit 6", [("system.reboot", "web-1", H)]),
    ("init 1", [("system.shutdown", "web-1", H)]),
    ("crontab -r", [("system.crontab_remove", "deploy", H)]),
    ("crontab -u backup -r", [("system.crontab_remove", "backup", H)]),
    ("crontab -ir", [("system.crontab_remove", "deploy", L)]),
    ("crontab /srv/app/cron.txt", [("system.crontab_remove", "deploy", L)]),
]

QUIET = [
    "systemctl",
    "systemctl status nginx",
    "systemctl status",
    "systemctl show postgresql",
    "systemctl list-units 'systemd*'",
    "systemctl is-active sshd",
    "systemctl cat nginx.service",
    "systemctl start postgresql",
    "systemctl enable --now nginx",
    "systemctl daemon-reload",
    "systemctl unmask nginx --now",
    "systemctl kill -s help",
    "systemctl halt --when cancel",
    "systemctl default",
    "systemctl --help stop nginx",
    "service --status-all",
    "service nginx status",
    "service nginx start",
    "/etc/init.d/nginx status",
    "rc-service --dry-run nginx stop",
    "rc-service -r nginx",
    "rc-update add nginx default",
    "invoke-rc.d --query nginx stop",
    "shutdown -c",
    "shutdown -k now",
    "reboot --wtmp-only",
    "init 3",
    "telinit q",
    "init",
    "crontab -l",
    "crontab -e",
    "crontab -u backup -l",
]


@pytest.mark.parametrize(("line", "expected"), FIRING)
def test_fires(line: str, expected: list[tuple[str, str, str]]) -> None:
    assert brief(run(line)) == expected


@pytest.mark.parametrize("line", QUIET)
def test_quiet(line: str) -> None:
    assert run(line) == []


def test_critical_tag_and_user_tag() -> None:
    (f,) = run("systemctl stop sshd")
    assert "critical" in f.tags and f.severity is Severity.HIGH
    (g,) = run("systemctl stop --user pipewire")
    assert g.tags == frozenset({"user"}) and g.severity is Severity.LOW


def test_remote_host_option_sets_ssh_target() -> None:
    (f,) = run("systemctl -H admin@db-1 stop postgresql")
    assert f.target.kind == "ssh"
    assert f.target.get("ssh_host") == "db-1"
    assert f.target.get("ssh_user") == "admin"
    (g,) = run("systemctl --host=db-2 reboot")
    assert (g.action, g.object, g.target.get("ssh_host")) == ("system.reboot", "db-2", "db-2")


def test_machine_option_keeps_host_and_adds_machine() -> None:
    (f,) = run("systemctl -M web stop nginx")
    assert f.target.get("hostname") == "web-1" and f.target.get("machine") == "web"


def test_shutdown_object_is_ssh_host_on_remote_target() -> None:
    (f,) = run("shutdown -r now", target=Target("ssh", (("ssh_host", "prod-db-1"),)))
    assert f.object == "prod-db-1" and f.action == "system.reboot"


def test_evidence_points_at_verb_and_unit() -> None:
    line = "systemctl stop myapp postgresql"
    a, b = run(line)
    assert a.evidence.text(line) == "stop myapp"
    assert b.evidence.text(line) == "stop myapp postgresql"


def test_forced_shutdown_tag() -> None:
    (f,) = run("reboot -f")
    assert f.tags == frozenset({"force"})


def test_crontab_from_empty_stdin_is_high() -> None:
    (f,) = run("crontab -", stdin="\n# nothing\n")
    assert (f.action, f.severity) == ("system.crontab_remove", Severity.HIGH)
    assert "empty" in f.tags
    (g,) = run("crontab -", stdin="0 3 * * * /usr/local/bin/backup\n")
    assert g.severity is Severity.LOW
    (h,) = run("crontab", stdin="")
    assert h.severity is Severity.HIGH


def test_crontab_file_read_through_facts() -> None:
    (f,) = run("crontab /tmp/empty.cron", files={"/tmp/empty.cron": ""})
    assert f.severity is Severity.HIGH
    (g,) = run("crontab /tmp/none.cron")  # unreadable: replace, content unknown
    assert g.severity is Severity.LOW and "empty" not in g.tags


def test_crontab_user_from_sudo() -> None:
    (f,) = run("crontab -r", user="postgres")
    assert f.object == "postgres"


def test_shutdown_inside_a_container_names_the_container() -> None:
    target = Target("container", (("container", "db"), ("hostname", "web-1")))
    (f,) = run("reboot", target=target)
    assert f.object == "db"


def test_shutdown_evidence_is_the_whole_command() -> None:
    line = "shutdown -r +5"
    (f,) = run(line)
    assert f.evidence.text(line) == line
