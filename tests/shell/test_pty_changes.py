"""The "changed since your previous command" notices: said before the next
command and its card, and only for what this terminal did not do itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.shell.term import CTRL_C, Term

pytestmark = pytest.mark.pty
Shell = Callable[..., Term]
CARD = "━━ guardsh ━"
KUBE_NOTICE = "kube context changed since your previous command"
DB_NOTICE = "database target changed since your previous command"


def _kubeconfig(path: Path, ctx: str) -> None:
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"current-context: {ctx}\n"
        "contexts:\n"
        "- name: dev-local\n  context: {cluster: c1, namespace: web}\n"
        "- name: prod-eu\n  context: {cluster: c2, namespace: payments}\n"
        "clusters:\n- name: c1\n  cluster: {server: 'https://127.0.0.1:6443'}\n"
        "- name: c2\n  cluster: {server: 'https://k8s.prod.example'}\n"
    )


def test_a_context_switched_elsewhere_is_said_before_the_card(shell: Shell, tmp_path: Path) -> None:
    cfg = tmp_path / "kubeconfig"
    _kubeconfig(cfg, "dev-local")
    t = shell(KUBECONFIG=str(cfg))
    _kubeconfig(cfg, "prod-eu")  # another tab: `kubectl config use-context prod-eu`
    t.line("kubectl delete ns payments")
    notice = t.expect_exact(f"{KUBE_NOTICE}: dev-local/web → prod-eu/payments")
    card = t.expect_exact(CARD)
    assert notice.start() < card.start()
    t.expect_exact("to run it:")
    time.sleep(0.2)  # the question is ready: keys typed before it are discarded
    t.send(CTRL_C)
    t.prompt()
    t.run("echo after-$((1+1))", "after-2")
    assert t.text.count(KUBE_NOTICE) == 1


def test_a_switch_made_here_is_no_news(shell: Shell, tmp_path: Path, work: Path) -> None:
    cfg = tmp_path / "kubeconfig"
    _kubeconfig(cfg, "dev-local")
    t = shell(KUBECONFIG=str(cfg))
    # this terminal switches the context (as `kubectl config use-context` would)
    t.run(f"sed -i 's/^current-context: .*/current-context: prod-eu/' {cfg}")
    t.run("export DATABASE_URL=postgres://prod-db.internal/app")
    t.run("echo one-$((1+1))", "one-2")
    t.run("unset DATABASE_URL; echo two-$((2+2))", "two-4")
    assert "k8s:prod-eu/payments" in t.text
    assert KUBE_NOTICE not in t.text
    assert DB_NOTICE not in t.text
    _kubeconfig(cfg, "dev-local")  # and then another tab switches it back
    t.line("")  # Enter on an empty line: nothing runs, the change is news
    t.expect_exact(f"{KUBE_NOTICE}: prod-eu/payments → dev-local/web")
    t.prompt()
