"""Unit tests of the terraform / tofu / terragrunt analyzers.

No terraform binary, state backend or cloud API runs here, and none is needed:
the analysis is static (argv, environment variables and the workspace file
`.terraform/environment`, which tests hand in through `Facts.read_file`).
The YAML cases in `cases/terraform.yaml` run the same analyzers through the
whole pipeline; these tests pin the details (targets, tags, lazy file reads).
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from guardsh.analyze import terraform as tf
from guardsh.analyze.registry import Context
from guardsh.model import Facts, Finding, Invocation, Severity, Snapshot, Span, Target
from tests.analyze.support import findings, found_words, split_env

HIGH, LOW = Severity.HIGH, Severity.LOW


def make_inv(line: str, cwd: str | None = None, target: Target | None = None) -> Invocation:
    """A tiny stand-in for parse+unwrap: shlex words, leading NAME=VALUE as env."""
    env, words = split_env(found_words(line))
    program = words[0].value.rsplit("/", 1)[-1]
    target = target or Target("local", (("hostname", "ops-1"),))
    return Invocation(program, tuple(words), Span(0, len(line)), target, env=env, cwd=cwd)


def run(
    line: str,
    files: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    cwd: str = "/srv/infra",
    target: Target | None = None,
) -> list[Finding]:
    reads: list[str] = []

    def read(path: str) -> str | None:
        reads.append(path)
        return (files or {}).get(path)

    ctx = Context(
        line, Snapshot(variables=variables or {}, cwd=cwd), Facts(read_file=read), lambda *a: []
    )
    inv = make_inv(line, target=target)
    out = findings(inv, ctx, {tf.__name__})
    run.reads = reads  # type: ignore[attr-defined]
    return out


def one(line: str, **kw: object) -> Finding:
    found = run(line, **kw)  # type: ignore[arg-type]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("line", "action", "severity"),
    [
        ("terraform destroy", "terraform.destroy", HIGH),
        ("tofu destroy -auto-approve", "terraform.destroy", HIGH),
        ("terraform apply -destroy", "terraform.destroy", HIGH),
        ("terraform apply --destroy -auto-approve", "terraform.destroy", HIGH),
        ("terraform apply -auto-approve", "terraform.apply", HIGH),
        ("terraform apply -auto-approve=true", "terraform.apply", HIGH),
        ("terraform apply", "terraform.apply", LOW),
        ("terraform apply -auto-approve=false", "terraform.apply", LOW),
        ("terraform apply tfplan", "terraform.apply", LOW),
        ("terraform apply -auto-approve tfplan", "terraform.apply", LOW),
        ("terraform apply -var-file prod.tfvars", "terraform.apply", LOW),
        ("terraform apply -refresh-only -auto-approve", "terraform.apply", LOW),
        ("terraform refresh", "terraform.apply", LOW),
        ("terraform import aws_instance.web i-123", "terraform.apply", LOW),
        ("terraform state rm aws_db_instance.main", "terraform.state_rm", HIGH),
        ("terraform state push -force x.tfstate", "terraform.state_rm", HIGH),
        ("terraform state mv a.b c.d", "terraform.state_rm", LOW),
        ("terraform state replace-provider a b", "terraform.state_rm", LOW),
        ("terraform force-unlock 1234", "terraform.state_rm", LOW),
        ("terraform workspace delete prod", "terraform.state_rm", HIGH),
        ("terraform taint aws_instance.web", "terraform.taint", LOW),
        ("terraform workspace select prod", "terraform.workspace_switch", LOW),
        ("terragrunt destroy", "terraform.destroy", HIGH),
        ("terragrunt apply", "terraform.apply", LOW),
        ("terragrunt run-all apply", "terraform.apply", HIGH),
        ("terragrunt run-all destroy", "terraform.destroy", HIGH),
        ("terragrunt destroy-all", "terraform.destroy", HIGH),
        ("terragrunt run --all destroy", "terraform.destroy", HIGH),
        ("terragrunt run --all -- apply -auto-approve", "terraform.apply", HIGH),
        ("terragrunt stack run destroy", "terraform.destroy", HIGH),
        ("TF_CLI_ARGS_apply=-auto-approve terraform apply", "terraform.apply", HIGH),
    ],
)
def test_fires(line: str, action: str, severity: Severity) -> None:
    f = one(line)
    assert (f.action, f.severity) == (action, severity)
    assert f.target.kind == "terraform"


@pytest.mark.parametrize(
    "line",
    [
        "terraform plan",
        "terraform plan -destroy",
        "terraform plan -out=tfplan -var-file=prod.tfvars",
        "terraform validate",
        "terraform fmt -recursive",
        "terraform show tfplan",
        "terraform output -json",
        "terraform init -upgrade",
        "terraform state list",
        "terraform state show aws_instance.web",
        "terraform state pull",
        "terraform state rm -dry-run aws_instance.web",
        "terraform untaint aws_instance.web",
        "terraform workspace list",
        "terraform workspace new feature-x",
        "terraform providers",
        "terraform graph",
        "terraform version",
        "terraform -version",
        "terraform destroy -help",
        "terraform console",
        "terragrunt plan",
        "terragrunt run-all plan",
        "terragrunt run --all plan",
        "terraform",
        "terraform $SUBCOMMAND -help",
        "terraform $SUBCOMMAND -version",
        "terraform plan -var x=$V",
        "terraform state list $ADDR",
    ],
)
def test_quiet(line: str) -> None:
    assert run(line) == []


def test_quiet_does_not_read_the_workspace_file() -> None:
    run("terraform plan -chdir=prod")
    assert run.reads == []  # type: ignore[attr-defined]


def test_workspace_from_environment_file_under_chdir() -> None:
    files = {"/srv/infra/prod/.terraform/environment": "prod\n"}
    f = one("terraform -chdir=prod destroy -auto-approve", files=files)
    assert f.target.get("terraform_workspace") == "prod"
    assert f.target.get("terraform_dir") == "/srv/infra/prod"
    assert f.object == "prod"
    assert "auto-approve" in f.tags
    assert "workspace prod" in f.detail


def test_workspace_defaults_to_default() -> None:
    f = one("terraform destroy")
    assert f.target.get("terraform_workspace") == "default"
    assert run.reads == ["/srv/infra/.terraform/environment"]  # type: ignore[attr-defined]


def test_tf_workspace_env_beats_file_and_snapshot() -> None:
    files = {"/srv/infra/.terraform/environment": "staging"}
    f = one("TF_WORKSPACE=prod terraform destroy", files=files, variables={"TF_WORKSPACE": "dev"})
    assert f.target.get("terraform_workspace") == "prod"
    f = one("terraform destroy", files=files, variables={"TF_WORKSPACE": "dev"})
    assert f.target.get("terraform_workspace") == "dev"
    f = one("terraform destroy", files=files)
    assert f.target.get("terraform_workspace") == "staging"


def test_tf_data_dir_moves_the_environment_file() -> None:
    files = {"/srv/infra/.tfdata/environment": "prod"}
    f = one("TF_DATA_DIR=.tfdata terraform apply -auto-approve", files=files)
    assert f.target.get("terraform_workspace") == "prod"


def test_absolute_chdir_and_cwd() -> None:
    files = {"/opt/tf/live/.terraform/environment": "live"}
    f = one("terraform -chdir=/opt/tf/live destroy", files=files)
    assert f.target.get("terraform_dir") == "/opt/tf/live"
    assert f.target.get("terraform_workspace") == "live"


def test_unknown_chdir_leaves_workspace_unknown() -> None:
    f = one("terraform -chdir=$ENV_DIR destroy")
    assert f.target.get("terraform_workspace") is None
    assert f.target.get("terraform_dir") == "$ENV_DIR"
    assert "unknown-workspace" in f.tags


def test_var_files_are_recorded() -> None:
    f = one("terraform apply -var-file=common.tfvars -var-file prod.tfvars -auto-approve")
    assert f.target.get("tf_var_file") == "common.tfvars,prod.tfvars"


def test_targets_name_the_object() -> None:
    f = one("terraform destroy -target=aws_db_instance.main -target module.vpc")
    assert f.object == "aws_db_instance.main,module.vpc"
    f = one("terraform apply -replace=aws_instance.web")
    assert f.object == "aws_instance.web"
    assert "replace" in f.tags


def test_planfile_object_and_tag() -> None:
    f = one("terraform apply prod.tfplan")
    assert f.object == "prod.tfplan"
    assert "planfile" in f.tags


def test_state_rm_names_addresses() -> None:
    f = one("terraform state rm aws_s3_bucket.logs aws_s3_bucket.data")
    assert f.object == "aws_s3_bucket.logs,aws_s3_bucket.data"
    assert f.detail == "state rm"


def test_workspace_delete_and_select() -> None:
    f = one("terraform workspace delete -force prod")
    assert (f.object, f.detail) == ("prod", "workspace delete")
    assert "force" in f.tags
    assert f.target.get("terraform_workspace") == "prod"  # the state removed is prod's
    f = one("terraform workspace select prod")
    assert f.target.get("terraform_workspace") == "prod"


def test_local_hostname_is_not_the_environment() -> None:
    f = one("terraform destroy")
    assert f.target.get("hostname") is None


def test_remote_target_keeps_host_and_ignores_local_state() -> None:
    files = {"/srv/infra/.terraform/environment": "dev"}
    ssh = Target("ssh", (("ssh_host", "prod-bastion"),))
    f = one("terraform destroy", files=files, variables={"TF_WORKSPACE": "dev"}, target=ssh)
    assert f.target.get("ssh_host") == "prod-bastion"
    assert f.target.get("terraform_workspace") is None
    assert "unknown-workspace" in f.tags
    assert run.reads == []  # type: ignore[attr-defined]
    f = one("TF_WORKSPACE=prod terraform destroy", target=ssh)
    assert f.target.get("terraform_workspace") == "prod"


def test_terragrunt_tags() -> None:
    f = one(
        "terragrunt run-all destroy --terragrunt-non-interactive --terragrunt-working-dir live/prod"
    )
    assert {"run-all", "no-prompt"} <= f.tags
    assert f.target.get("terraform_dir") == "/srv/infra/live/prod"
    f = one("terragrunt --working-dir live/prod run --all destroy")
    assert f.target.get("terraform_dir") == "/srv/infra/live/prod"
    f = one("terragrunt destroy")
    assert "run-all" not in f.tags


def test_terragrunt_run_without_all_is_one_module() -> None:
    f = one("terragrunt run -- apply")
    assert (f.action, f.severity) == ("terraform.apply", LOW)
    assert "run-all" not in f.tags


def test_tf_cli_args_from_snapshot() -> None:
    f = one("terraform destroy", variables={"TF_CLI_ARGS": "-auto-approve"})
    assert "auto-approve" in f.tags


@pytest.mark.parametrize(
    ("line", "obj", "detail"),
    [
        ("terraform $CMD", "$CMD", "terraform: the subcommand"),
        ('tofu "$VERB" -auto-approve', "$VERB", "tofu: the subcommand"),
        ("terraform state $OP aws_instance.web", "$OP", "terraform state: the operation"),
        ("terraform workspace $OP", "$OP", "terraform workspace: the operation"),
        ("terragrunt $CMD", "$CMD", "terragrunt: the subcommand"),
        ("terragrunt run -- $CMD", "$CMD", "terragrunt: the subcommand"),
        ("terragrunt stack $OP", "$OP", "terragrunt: the subcommand"),
    ],
)
def test_unknown_subcommand_is_opaque_in_the_workspace(line: str, obj: str, detail: str) -> None:
    f = one(line, files={"/srv/infra/.terraform/environment": "prod"})
    assert (f.action, f.object, f.severity) == ("shell.opaque", obj, LOW)
    assert f.detail.startswith(detail)
    assert "unknown-object" in f.tags
    assert f.target.kind == "terraform"
    assert f.target.get("terraform_workspace") == "prod"
    assert f.evidence.text(line).strip('"') == obj  # the card marks the unknown word


def test_unknown_subcommand_keeps_the_flags_that_matter() -> None:
    f = one('terraform -chdir=envs/prod "$VERB" -auto-approve')
    assert f.target.get("terraform_dir") == "/srv/infra/envs/prod"
    assert "auto-approve" in f.tags
    f = one("terragrunt run-all $CMD --terragrunt-non-interactive")
    assert {"run-all", "no-prompt"} <= f.tags
    assert f.severity == LOW  # opaque stays low: the policy decides what it asks


def test_unknown_workspace_operation_acts_on_the_named_workspace() -> None:
    f = one("terraform workspace $OP prod")
    assert f.target.get("terraform_workspace") == "prod"


def test_unknown_subcommand_with_help_reads_nothing() -> None:
    assert run("terraform $CMD -help") == []
    assert run.reads == []  # type: ignore[attr-defined]
