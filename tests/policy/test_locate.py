"""locate: the default's classification, `except`, host short names, ssh
aliases resolved through ~/.ssh/config, `cwd` and `var` matchers."""

from __future__ import annotations

import pytest

from guardsh.model import Target
from guardsh.policy.load import default_text, merge
from guardsh.policy.locate import classify, misses
from guardsh.policy.schema import Pattern
from tests.factories import DEFAULT_POLICY, snapshot
from tests.policy.conftest import decide


@pytest.mark.parametrize(
    ("field", "value", "env"),
    [
        ("hostname", "prod-db-1", "production"),
        ("hostname", "app-prd-2", "production"),
        ("hostname", "live-web", "production"),
        ("kube_context", "production-eu", "production"),
        ("hostname", "preprod-app-1", "staging"),
        ("kube_context", "pre-prod", "staging"),
        ("hostname", "stg-1", "staging"),
        ("db_host", "uat-db", "staging"),
        ("hostname", "staging-api", "staging"),
        ("db_host", "dev-db", "development"),
        ("hostname", "test-runner", "development"),
        ("db_host", "localhost", "development"),
        ("hostname", "127.0.0.1", "development"),
        ("hostname", "::1", "development"),
        ("hostname", "box.local", "development"),
        ("kube_context", "kind-ci", "development"),
        ("kube_context", "minikube", "development"),
        ("kube_context", "docker-desktop", "development"),
        ("kube_context", "k3d-x", "development"),
        ("ssh_host", "prod-bastion", "production"),
        ("aws_profile", "company-prod", "production"),
        ("hostname", "host-1", "staging"),
        ("kube_cluster_server", "https://127.0.0.1:6443", "development"),
    ],
)
def test_the_default_classifies_the_names_people_use(field: str, value: str, env: str) -> None:
    assert classify(Target("x", ((field, value),)), snapshot(), DEFAULT_POLICY).environment == env


@pytest.mark.parametrize(
    ("value", "env"),
    [
        # prd and live anywhere in a name: a false "production" only asks more
        ("prddb1", "production"),
        ("dbprd1", "production"),
        ("liveapi", "production"),
        ("golive", "production"),
        ("db-prd-1", "production"),
        # ... except the pre-production forms, which stay staging
        ("preprod", "staging"),
        ("preprod-app-1", "staging"),
        ("preprd-db", "staging"),
        ("prelive-1", "staging"),
        ("pre-live-web", "staging"),
        ("nonprod-ci", "development"),
        ("non-prd-ci", "development"),
        # dev and test only as whole words: a false "development" protects nothing
        ("device-registry", "staging"),
        ("contest-db", "staging"),
        ("testimony-api", "staging"),
        ("latest-build", "staging"),
        ("dev-box", "development"),
        ("dev1", "development"),
        ("app-test", "development"),
        ("development", "development"),
        ("testing-2", "development"),
    ],
)
def test_substring_for_production_whole_words_for_development(value: str, env: str) -> None:
    for field in ("hostname", "kube_context", "db_host"):
        t = Target("x", ((field, value),))
        assert classify(t, snapshot(), DEFAULT_POLICY).environment == env, (field, value)


def test_evidence_names_field_value_pattern_and_line() -> None:
    ev = classify(Target("kube", (("kube_context", "prod-eu"),)), snapshot(), DEFAULT_POLICY)
    assert (ev.field, ev.value, ev.pattern) == ("kube_context", "prod-eu", "*prod*")
    assert ev.origin.startswith("<default>:")


def test_misses_explain_an_exception() -> None:
    t = Target("local", (("hostname", "preprod-app-1"),))
    (m,) = misses(t, snapshot(), DEFAULT_POLICY, "staging")
    assert m.environment == "production"
    assert m.text == "hostname `preprod-app-1` matched `*prod*` but `except` has `*preprod*`"


SITE = merge(
    [
        ("<default>", default_text()),
        (
            "site.yaml",
            """
environments:
  - name: production
    match:
      ssh_host: ["db-7.eu.internal"]
      hostname: ["db-1"]
      cwd: ["/srv/prod/*"]
      var:
        APP_ENV: ["production", "prod"]
""",
        ),
    ]
)


DB_URLS = merge(
    [
        ("<default>", default_text()),
        (
            "db.yaml",
            """
environments:
  - name: production
    match:
      db_url: ["postgres://*h1/*", "re:^postgresql://[^/]*@h2:5432/"]
""",
        ),
    ]
)


@pytest.mark.parametrize(
    "line",
    [
        "psql 'postgres://h1/app?sslmode=require' -c 'DROP TABLE t'",  # as typed
        "psql 'postgres://ops:s3cret@h1/app' -c 'DROP TABLE t'",  # as typed, no password
        "psql postgresql://h2/app -c 'DROP TABLE t'",  # normalised: user and port filled in
        "psql -h h2 -d app -c 'DROP TABLE t'",  # no URL typed at all
    ],
)
def test_db_url_matches_the_url_as_typed_and_normalised(line: str) -> None:
    d = decide(DB_URLS, line)
    assert d.environment == "production", d.findings[0].target
    assert "s3cret" not in str(d.findings[0].target)


def test_db_url_as_typed_is_the_evidence() -> None:
    d = decide(DB_URLS, "psql 'postgres://h1/app?sslmode=require' -c 'DROP TABLE t'")
    ev = classify(d.findings[0].target, snapshot(), DB_URLS)
    assert (ev.field, ev.value, ev.pattern) == (
        "db_url_typed",
        "postgres://h1/app?sslmode=require",
        "postgres://*h1/*",
    )
    assert decide(DB_URLS, "psql postgres://h3/app -c 'DROP TABLE t'").environment == "staging"


def test_ssh_host_matches_the_alias_or_its_hostname() -> None:
    d = decide(SITE, "ssh orders 'rm -rf /var/lib/pg'", ssh_hosts={"orders": "db-7.eu.internal"})
    assert d.environment == "production"
    assert d.findings[0].target.get("ssh_hostname") == "db-7.eu.internal"
    ev = classify(d.findings[0].target, snapshot(), SITE)
    assert (ev.field, ev.value) == ("ssh_hostname", "db-7.eu.internal")
    assert decide(SITE, "ssh orders 'rm -rf /var/lib/pg'").environment == "staging"


def test_names_see_the_resolved_ssh_hostname_too() -> None:
    d = decide(DEFAULT_POLICY, "ssh db 'rm -rf /x'", ssh_hosts={"db": "prod-db-3.example.com"})
    assert d.environment == "production"


def test_hostname_matches_the_short_name_of_an_fqdn() -> None:
    assert decide(SITE, "rm -rf /x", hostname="db-1.eu.example.com").environment == "production"
    assert decide(SITE, "rm -rf /x", hostname="db-10.eu.example.com").environment == "staging"


def test_cwd_and_var_matchers() -> None:
    assert decide(SITE, "rm -rf x", cwd="/srv/prod/api").environment == "production"
    assert decide(SITE, "rm -rf x", vars={"APP_ENV": "Production"}).environment == "production"
    assert decide(SITE, "rm -rf x", vars={"APP_ENV": "dev"}).environment == "staging"


def test_local_database_counts_as_its_host() -> None:
    d = decide(DEFAULT_POLICY, "redis-cli FLUSHALL", hostname="prod-cache-1")
    assert d.environment == "production"


@pytest.mark.parametrize(
    ("pattern", "value", "hit"),
    [
        ("*prod*", "PROD-1", True),
        ("*prod*", "pro", False),
        ("kind-*", "kind-a", True),
        ("kind-*", "akind-a", False),
        ("a*b*c", "abc", True),
        ("a*b*c", "ac", False),
        ("a*a", "a", False),
        ("db-[0-9]", "db-7", True),
        ("db-?", "db-77", False),
        ("re:^prod-\\d+$", "prod-12", True),
        ("re:prod", "my-prod-x", True),
        ("exact", "EXACT", True),
    ],
)
def test_patterns(pattern: str, value: str, hit: bool) -> None:
    assert Pattern.compile(pattern).match(value) is hit
