"""Unit tests of the cloud CLI analyzers (aws, gcloud, gsutil, az, doctl).

No cloud API, account or CLI binary is used, and none is needed: the analysis
is static (argv, environment variables and the CLIs' config files, which tests
hand in through `Facts.read_file`). `cases/cloud.yaml` runs the same analyzers
through the whole pipeline; these tests pin the option grammar, the lazy file
reads, remote targets and the shell text handed to `recurse_shell`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from guardsh.analyze import cloud, cloud_aws, cloud_azure, cloud_doctl, cloud_gcp
from guardsh.analyze.registry import Context
from guardsh.model import Facts, Finding, Invocation, Severity, Snapshot, Span, Stdin, Target
from tests.analyze.support import findings, found_words, split_env

HIGH, LOW = Severity.HIGH, Severity.LOW
FAMILIES = {m.__name__ for m in (cloud_aws, cloud_gcp, cloud_azure, cloud_doctl)}
LOCAL = Target("local", (("hostname", "dev-laptop"),))


class Run:
    """One analysis with recorded file reads and recursive shell texts."""

    def __init__(
        self,
        line: str,
        files: Mapping[str, str] | None = None,
        variables: Mapping[str, str] | None = None,
        target: Target = LOCAL,
        stdin: str | None = None,
    ) -> None:
        self.reads: list[str] = []
        self.nested: list[tuple[str, Target]] = []
        env, ws = split_env(found_words(line))
        inv = Invocation(
            ws[0].value, tuple(ws), Span(0, len(line)), target, env=env,
            stdin=Stdin(stdin, "pipe:echo") if stdin is not None else None,
        )  # fmt: skip

        def read(path: str) -> str | None:
            self.reads.append(path)
            return (files or {}).get(path)

        def recurse(text: str, where: Target, span: Span) -> list[Finding]:
            self.nested.append((text, where))
            return []

        snap = Snapshot(variables=variables or {}, cwd="/srv", home="/home/me")
        ctx = Context(line, snap, Facts(read_file=read), recurse)
        self.found = findings(inv, ctx, FAMILIES)

    def one(self) -> Finding:
        assert len(self.found) == 1, self.found
        return self.found[0]


def test_split_grammar() -> None:
    line = "--profile p ec2 terminate-instances --instance-ids i-1 i-2 --force --region=r x"
    opts, ops = cloud.split_args(found_words(line), cloud_aws._AWS_FLAGS)
    assert [w.value for w in ops] == ["ec2", "terminate-instances", "x"]
    assert [w.value for w in opts["instance-ids"]] == ["i-1", "i-2"]
    assert opts["force"] == []
    assert cloud.last(opts, "region") == "r"
    opts, ops = cloud.split_args(found_words("--desired-count -1 --name n"), frozenset())
    assert cloud.last(opts, "desired-count") == "-1"  # a negative number is a value


@pytest.mark.parametrize(
    "line",
    [
        "aws --profile prod ec2 terminate-instances --instance-ids i-1",
        "aws ec2 --profile prod terminate-instances --instance-ids i-1",
        "aws ec2 terminate-instances --instance-ids i-1 --profile=prod",
        "aws --debug --no-cli-pager ec2 terminate-instances --profile prod --instance-ids i-1",
    ],
)
def test_aws_global_options_anywhere(line: str) -> None:
    f = Run(line).one()
    assert (f.action, f.object, f.severity) == ("cloud.delete", "i-1", HIGH)
    assert f.target.get("aws_profile") == "prod"
    assert f.target.get("hostname") is None  # the laptop does not name the account


def test_quiet_commands_read_no_config() -> None:
    r = Run("aws ec2 describe-instances --profile prod")
    assert r.found == [] and r.reads == []
    r = Run("gcloud compute instances list")
    assert r.found == [] and r.reads == []


def test_aws_config_gives_region_and_account() -> None:
    conf = "[profile prod]\nsso_account_id = 111122223333\nregion = eu-north-1\n"
    r = Run("aws s3 rb s3://b --profile prod", files={"/home/me/.aws/config": conf})
    f = r.one()
    assert f.target.get("aws_account") == "111122223333"
    assert f.target.get("aws_region") == "eu-north-1"
    assert r.reads == ["/home/me/.aws/config"]


def test_aws_config_file_variable() -> None:
    r = Run("aws s3 rb s3://b", variables={"AWS_CONFIG_FILE": "/etc/aws.ini"})
    r.one()
    assert r.reads == ["/etc/aws.ini"]


def test_remote_target_ignores_local_variables_and_files() -> None:
    ssh = Target("ssh", (("ssh_host", "bastion-prod"),))
    r = Run("aws s3 rb s3://b", variables={"AWS_PROFILE": "dev"}, target=ssh)
    f = r.one()
    assert f.target.get("aws_profile") == "default"
    assert f.target.get("ssh_host") == "bastion-prod"
    assert r.reads == []
    f = Run("AWS_PROFILE=prod aws s3 rb s3://b", target=ssh).one()
    assert f.target.get("aws_profile") == "prod"


def test_aws_object_prefers_the_operation_noun() -> None:
    f = Run(
        "aws rds delete-db-instance --final-db-snapshot-identifier s --db-instance-identifier db1"
    ).one()
    assert f.object == "db1"
    f = Run("aws lambda delete-function --function-name fn --qualifier 3").one()
    assert f.object == "fn"
    f = Run("aws ec2 delete-snapshot --cli-input-json file://x.json").one()
    assert "unknown-object" in f.tags


def test_unknown_object_shows_the_text() -> None:
    f = Run("aws ec2 terminate-instances --instance-ids $IDS").one()
    assert f.object == "$IDS"
    assert "unknown-object" in f.tags


def test_route53_reads_change_batch_relative_to_cwd() -> None:
    batch = '{"Changes":[{"Action":"DELETE","ResourceRecordSet":{"Name":"a.example.","Type":"A"}}]}'
    r = Run(
        "aws route53 change-resource-record-sets --hosted-zone-id Z --change-batch file://b.json",
        files={"/srv/b.json": batch},
    )
    f = r.one()
    assert (f.action, f.object, f.severity) == ("cloud.delete", "a.example. A", HIGH)
    assert "/srv/b.json" in r.reads


def test_ssm_send_command_recurses_on_the_instances() -> None:
    r = Run(
        "aws ssm send-command --instance-ids i-1 i-2 --document-name AWS-RunShellScript"
        ' --parameters \'commands=["systemctl stop nginx","rm -rf /tmp/x"]\' --profile prod'
    )
    assert r.nested == [("systemctl stop nginx\nrm -rf /tmp/x", r.nested[0][1])]
    assert r.nested[0][1].get("aws_instance_ids") == "i-1,i-2"
    assert r.nested[0][1].get("aws_profile") == "prod"
    r = Run("aws ssm send-command --instance-ids i-1 --parameters $P")
    assert r.one().action == "shell.opaque"


def test_gcloud_value_flags_do_not_become_objects() -> None:
    f = Run("gcloud compute instances delete --zone z1 --project p vm1 --quiet").one()
    assert (f.object, f.target.get("gcp_project"), f.target.get("gcp_zone")) == ("vm1", "p", "z1")
    assert "no-prompt" in f.tags


def test_gcloud_active_configuration_file() -> None:
    files = {
        "/opt/gc/active_config": "ops",
        "/opt/gc/configurations/config_ops": "[core]\nproject = acme-prod\n",
    }
    f = Run("gcloud sql instances delete main", files, {"CLOUDSDK_CONFIG": "/opt/gc"}).one()
    assert (f.target.get("gcp_project"), f.target.get("gcp_configuration")) == ("acme-prod", "ops")
    f = Run("gcloud sql instances delete main --configuration ops", files).one()
    assert f.target.get("gcp_configuration") == "ops"


def test_gcloud_compute_ssh_command_recurses() -> None:
    r = Run("gcloud compute ssh me@db-1 --project acme-prod --command 'sudo reboot'")
    assert r.found == []
    text, where = r.nested[0]
    assert text == "sudo reboot"
    assert (where.kind, where.get("ssh_host"), where.get("gcp_project")) == (
        "ssh",
        "db-1",
        "acme-prod",
    )


def test_gsutil_rm_stdin_urls() -> None:
    r = Run("gsutil -m rm -I", stdin="gs://b/a\ngs://b/c\n")
    assert [f.object for f in r.found] == ["gs://b/a", "gs://b/c"]
    f = Run("gsutil -m rm -I").one()
    assert (f.severity, "unknown-object" in f.tags) == (HIGH, True)


def test_gsutil_top_options_before_command() -> None:
    f = Run("gsutil -o Credentials:x=y -u billing-proj -m rm -r gs://b").one()
    assert (f.object, f.severity) == ("gs://b", HIGH)


def test_az_profile_default_subscription() -> None:
    profile = '\ufeff{"subscriptions":[{"id":"9","name":"Prod","isDefault":true}]}'
    f = Run("az vm delete -g rg -n vm1", {"/home/me/.azure/azureProfile.json": profile}).one()
    assert f.target.get("azure_subscription") == "Prod"
    assert f.target.get("azure_subscription_id") == "9"
    assert f.target.get("azure_resource_group") == "rg"
    f = Run("az vm delete -g rg -n vm1", variables={"AZURE_SUBSCRIPTION_ID": "42"}).one()
    assert f.target.get("azure_subscription") == "42"


def test_az_broken_profile_is_not_a_crash() -> None:
    f = Run("az vm delete -n vm1", {"/home/me/.azure/azureProfile.json": "{not json"}).one()
    assert f.target.get("azure_subscription") is None


def test_doctl_aliases() -> None:
    assert Run("doctl compute d d 42").one().action == "cloud.delete"
    assert Run("doctl compute d ls").found == []
    assert Run("doctl d db delete 42 appdb").one().object == "42,appdb"
    f = Run("doctl compute droplet delete --tag-name web -f").one()
    assert (f.object, "no-prompt" in f.tags) == ("web", True)


def test_doctl_context_from_env_and_config() -> None:
    f = Run("doctl compute droplet delete 1", variables={"DIGITALOCEAN_CONTEXT": "prod"}).one()
    assert f.target.get("do_context") == "prod"
    conf = {"/home/me/.config/doctl/config.yaml": 'context: "staging"\n'}
    assert Run("doctl compute droplet delete 1", conf).one().target.get("do_context") == "staging"


@pytest.mark.parametrize(
    ("line", "action", "severity"),
    [
        ("aws s3 rm s3://b/k", "cloud.delete", LOW),
        ("aws s3 rm s3://b/ --recursive", "cloud.delete", HIGH),
        ("aws s3api delete-objects --bucket b --delete file://d.json", "cloud.delete", HIGH),
        ("aws ec2 delete-tags --resources i-1 --tags Key=a", "cloud.delete", LOW),
        ("aws s3api delete-bucket-policy --bucket b", "cloud.delete", LOW),
        ("aws ec2 revoke-security-group-ingress --group-id sg-1", "cloud.modify", LOW),
        ("aws lambda put-function-concurrency --function-name f"
         " --reserved-concurrent-executions 0", "cloud.modify", HIGH),
        ("aws ecs stop-task --cluster c --task t", "cloud.stop", LOW),
        ("gcloud run services delete api", "cloud.delete", HIGH),
        ("gcloud compute firewall-rules delete allow-ssh", "cloud.delete", LOW),
        ("gcloud secrets versions destroy 3 --secret s", "cloud.delete", HIGH),
        ("gcloud compute instances set-machine-type vm1 --machine-type e2", "cloud.modify", LOW),
        ("az keyvault secret delete --vault-name kv --name s", "cloud.delete", LOW),
        ("az storage account delete -n st -g rg", "cloud.delete", HIGH),
        ("az webapp stop -g rg -n app", "cloud.stop", LOW),
        ("doctl compute droplet-action reboot 42", "cloud.stop", LOW),
        ("doctl databases user delete 42 app", "cloud.delete", LOW),
    ],
)  # fmt: skip
def test_table(line: str, action: str, severity: Severity) -> None:
    f = Run(line).one()
    assert (f.action, f.severity) == (action, severity)


@pytest.mark.parametrize(
    ("line", "obj", "field", "value"),
    [
        ("aws --profile prod ec2 $ACTION --instance-ids i-1", "$ACTION", "aws_profile", "prod"),
        ("aws $CMD --region eu-west-1", "$CMD", "aws_region", "eu-west-1"),
        ("aws $SVC sync /srv s3://b", "$SVC", "cloud", "aws"),
        ("gcloud compute instances $OP vm-1 --project p1", "$OP", "gcp_project", "p1"),
        ("gcloud $GROUP --zone z", "$GROUP", "gcp_zone", "z"),
        ("gsutil -m $CMD gs://b", "$CMD", "cloud", "gcp"),
        ("az vm $OP -n x -g rg", "$OP", "azure_resource_group", "rg"),
        ("az network $SUB delete -n x", None, "cloud", "azure"),  # the verb decides: a delete
        ("doctl compute droplet $V 1 --context c1", "$V", "do_context", "c1"),
        ("doctl compute $GROUP", "$GROUP", "cloud", "digitalocean"),
    ],
)
def test_unknown_deciding_word_is_opaque_on_the_account(
    line: str, obj: str | None, field: str, value: str
) -> None:
    f = Run(line).one()
    assert f.target.get(field) == value
    if obj is None:
        assert f.action == "cloud.delete"
        return
    assert (f.action, f.object, f.severity) == ("shell.opaque", obj, LOW)
    assert "unknown-object" in f.tags
    assert f.evidence.text(line) == obj  # the card marks the word, not the whole line
    assert "not known statically" in f.detail


@pytest.mark.parametrize(
    "line",
    [
        "aws s3 ls s3://$BUCKET",
        "aws s3 cp s3://b/$KEY /tmp/x",
        "aws $SVC list-things",
        "aws ec2 $OP --dry-run",
        "gcloud compute instances describe $VM",
        "gcloud compute instances add-tags $VM --tags t",
        "gcloud pubsub topics publish $TOPIC --message m",
        "gcloud components $OP",
        "gcloud compute disks snapshot $DISK --snapshot-names s1",
        "gcloud config get $PROPERTY",
        "gsutil cat gs://b/$KEY",
        "az vm list -g $RG",
        "az config $OP",
        "doctl compute droplet-action power-on $ID",
        "doctl compute volume-action attach $VOL 42",
        "doctl databases connection $ID",
        "doctl databases sql-mode set 42 $MODE",
        "doctl kubernetes cluster upgrade $CLUSTER",
        "doctl auth $OP",
    ],
)
def test_unknown_operand_adds_nothing_and_reads_nothing(line: str) -> None:
    r = Run(line)
    assert r.found == [] and r.reads == []


def test_unknown_verb_helper() -> None:
    ops = found_words("compute instances $OP vm-1")
    assert cloud.unknown_verb(ops, 1) == 2
    assert cloud.unknown_verb(found_words("$G instances list"), 1) == 0
    assert cloud.unknown_verb(found_words("compute instances attach-disk $VM"), 1) is None
    assert cloud.unknown_verb(found_words("functions call $F"), 1) is None
    assert cloud.unknown_verb(found_words("apps logs $APP"), 1) == 2
    assert cloud.unknown_verb(found_words("apps logs $APP"), 1, frozenset({"logs"})) is None
    # the top word is a group even when it reads as a verb (`gcloud deploy ...`)
    assert cloud.unknown_verb(found_words("deploy releases $OP"), 1) == 2
