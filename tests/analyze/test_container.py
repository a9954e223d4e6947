"""Unit tables for the container analyzers, on hand-built invocations."""

from __future__ import annotations

import pytest

import guardsh.analyze.container  # noqa: F401  (registers the analyzers)
from guardsh.model import Severity
from tests.analyze.support import LOCAL, brief, run

H, L = "high", "low"

FIRING = [
    ("docker rm web", [("container.remove", "web", L)]),
    ("docker rm web1 web2", [("container.remove", "web1", L), ("container.remove", "web2", L)]),
    ("docker rm -f web", [("container.remove", "web", L)]),
    ("docker rm -f postgres", [("container.remove", "postgres", H)]),
    ("docker rm app_db_1", [("container.remove", "app_db_1", L)]),
    ("docker rm -v web", [("container.remove", "web", H)]),
    (
        "docker container rm --force web1 mysql-main",
        [("container.remove", "web1", L), ("container.remove", "mysql-main", H)],
    ),
    ("docker container rm -v web", [("container.remove", "web", H)]),
    ("podman rm -a -f", [("container.remove", "*", H)]),
    ("podman rm -a", [("container.remove", "*", L)]),
    ("nerdctl rm web1 web2", [("container.remove", "web1", L), ("container.remove", "web2", L)]),
    ('docker rm -f "$(docker ps -aq)"', [("container.remove", "$(docker ps -aq)", L)]),
    (
        "docker rmi nginx:1.25 redis:7",
        [("container.remove", "nginx:1.25", L), ("container.remove", "redis:7", L)],
    ),
    ("docker image rm -f nginx:1.25", [("container.remove", "nginx:1.25", L)]),
    ("podman rmi --force nginx:1.25", [("container.remove", "nginx:1.25", L)]),
    ("docker volume rm myapp", [("container.remove", "myapp", H)]),
    (
        "docker volume rm -f pgdata other",
        [("container.remove", "pgdata", H), ("container.remove", "other", H)],
    ),
    (
        "docker network rm net1 net2",
        [("container.remove", "net1", L), ("container.remove", "net2", L)],
    ),
    ("docker secret rm s1", [("container.remove", "s1", L)]),
    ("docker stack rm shop", [("container.remove", "shop", H)]),
    ("docker service rm api", [("container.remove", "api", L)]),
    ("docker service rm orders-db", [("container.remove", "orders-db", H)]),
    ("docker buildx rm mybuilder", [("container.remove", "mybuilder", L)]),
    ("docker kill web", [("container.kill", "web", L)]),
    ("docker kill redis", [("container.kill", "redis", H)]),
    ("docker kill -s HUP nginx-proxy", [("container.kill", "nginx-proxy", L)]),
    ("docker kill --signal=HUP mongo", [("container.kill", "mongo", L)]),
    ("docker stop --timeout 10 web", [("container.kill", "web", L)]),
    ("docker stop etcd-0", [("container.kill", "etcd-0", H)]),
    (
        "docker container stop web1 web2",
        [("container.kill", "web1", L), ("container.kill", "web2", L)],
    ),
    ("docker restart postgres", [("container.kill", "postgres", L)]),
    ("docker container pause mydb", [("container.kill", "mydb", L)]),
    ("podman stop -a", [("container.kill", "*", H)]),
    ("podman pod rm -f mypod", [("container.remove", "mypod", L)]),
    ("podman pod kill mypod", [("container.kill", "mypod", L)]),
    ("docker system prune", [("container.prune", "system", L)]),
    ("docker system prune -f --filter until=24h", [("container.prune", "system", L)]),
    ("docker system prune -a", [("container.prune", "system", H)]),
    ("docker system prune --volumes", [("container.prune", "system", H)]),
    ("docker system prune -a --volumes", [("container.prune", "system", H)]),
    ("podman system reset", [("container.prune", "system", H)]),
    ("docker volume prune", [("container.prune", "volumes", H)]),
    ("docker volume prune -f", [("container.prune", "volumes", H)]),
    ("docker container prune", [("container.prune", "containers", L)]),
    ("docker image prune --all", [("container.prune", "images", L)]),
    ("docker network prune", [("container.prune", "networks", L)]),
    ("docker builder prune", [("container.prune", "build-cache", L)]),
    ("docker buildx prune --max-used-space 128mb", [("container.prune", "build-cache", L)]),
    ("docker compose down", [("container.remove", "app", L)]),
    ("docker compose down --rmi all", [("container.remove", "app", L)]),
    (
        "docker compose down --volumes",
        [("container.remove", "app", L), ("container.prune", "app", H)],
    ),
    (
        "docker compose down --remove-orphans -v",
        [("container.remove", "app", L), ("container.prune", "app", H)],
    ),
    ("docker compose -p shop down", [("container.remove", "shop", L)]),
    ("docker compose --file /srv/stack/compose.yaml down", [("container.remove", "stack", L)]),
    ("docker-compose down -v", [("container.remove", "app", L), ("container.prune", "app", H)]),
    ("podman-compose down", [("container.remove", "app", L)]),
    ("docker compose rm -f", [("container.remove", "app", L)]),
    ("docker compose rm -f -v db", [("container.remove", "db", H)]),
    ("docker compose stop", [("container.kill", "app", L)]),
    (
        "docker compose stop -t 10 web postgres",
        [("container.kill", "web", L), ("container.kill", "postgres", H)],
    ),
    ("docker-compose kill redis", [("container.kill", "redis", H)]),
]

QUIET = [
    "docker ps",
    "docker ps -a",
    "docker images",
    "docker logs -f web",
    "docker inspect postgres",
    "docker run --rm -it alpine sh",
    "docker run -d --name db postgres:16",
    "docker build -t app .",
    "docker pull nginx",
    "docker container ls --all",
    "docker image ls",
    "docker volume ls",
    "docker network ls",
    "docker system df",
    "docker rm --help",
    "docker container rm --help",
    "docker image rm --help",
    "docker rm --link /webapp/redis",
    "docker stop --help",
    "docker volume help --help",
    "docker start postgres",
    "docker rename web myapp",
    "docker update --restart always web",
    "docker compose up -d",
    "docker compose ps",
    "docker compose logs db",
    "docker compose stop --dry-run",
    "docker compose --dry-run down -v",
    "docker compose config",
    "podman-compose up -d",
    "docker context use prod",
    "docker context ls",
    "docker buildx ls",
    "docker buildx du",
    "docker service ls",
    "docker network connect myapp web",
    "docker $CMD web",
    "podman machine ls",
]


@pytest.mark.parametrize(("line", "expected"), FIRING)
def test_fires(line: str, expected: list[tuple[str, str, str]]) -> None:
    assert brief(run(line)) == expected


@pytest.mark.parametrize("line", QUIET)
def test_quiet(line: str) -> None:
    assert run(line) == []


def test_db_tag_and_volumes_tag() -> None:
    (f,) = run("docker rm -f -v postgres")
    assert {"db", "volumes", "force"} <= f.tags and f.severity is Severity.HIGH
    (g,) = run("docker stop web")
    assert "db" not in g.tags


def test_host_and_context_become_target_fields() -> None:
    (f,) = run("docker -H ssh://admin@prod-db-1:2222 rm -f web")
    assert f.target.get("docker_host") == "ssh://admin@prod-db-1:2222"
    assert f.target.get("ssh_host") == "prod-db-1"
    assert f.target.get("hostname") == "web-1"
    (g,) = run("docker --context prod-eu volume rm data")
    assert g.target.get("docker_context") == "prod-eu"
    (h,) = run("docker -c staging stop web")
    assert h.target.get("docker_context") == "staging"
    (i,) = run("docker --host=tcp://10.0.0.5:2376 kill web")
    assert i.target.get("docker_host") == "tcp://10.0.0.5:2376" and i.target.get("ssh_host") is None


def test_docker_host_from_environment() -> None:
    (f,) = run("docker rm web", env=(("DOCKER_HOST", "ssh://ops@build-3"),))
    assert (f.target.get("docker_host"), f.target.get("ssh_host")) == (
        "ssh://ops@build-3",
        "build-3",
    )
    (g,) = run("docker rm web", variables={"DOCKER_CONTEXT": "prod"})
    assert g.target.get("docker_context") == "prod"
    (h,) = run("docker rm web")
    assert h.target == LOCAL


def test_compose_project_from_environment() -> None:
    (f,) = run("docker compose down", env=(("COMPOSE_PROJECT_NAME", "billing"),))
    assert f.object == "billing"


def test_compose_through_docker_keeps_docker_context() -> None:
    (f, g) = run("docker --context prod compose down -v")
    assert f.target.get("docker_context") == "prod" and g.action == "container.prune"


def test_unknown_container_is_tagged() -> None:
    (f,) = run('docker rm -f "$(docker ps -aq)"')
    assert "unknown-object" in f.tags


def test_evidence_covers_verb_and_name() -> None:
    line = "docker rm web postgres"
    a, b = run(line)
    assert a.evidence.text(line) == "rm web"
    assert b.evidence.text(line) == "rm web postgres"
