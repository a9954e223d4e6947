"""The action taxonomy: stable names that policies match on.

Each action is documented here, once. A registry test checks that every
action has a firing and a quiet case in `tests/analyze/cases/`.
"""

from __future__ import annotations

ACTIONS: dict[str, str] = {
    # SQL (psql, mysql, sqlite3, clickhouse-client, cockroach sql, ...)
    "sql.drop_database": "DROP DATABASE, dropdb, mysqladmin drop",
    "sql.drop_schema": "DROP SCHEMA (incl. CASCADE), DROP OWNED BY",
    "sql.drop_table": "DROP TABLE",
    "sql.drop_other": "DROP of another object: view, index, function, role, user, ...",
    "sql.truncate": "TRUNCATE (incl. CASCADE)",
    "sql.delete_all": "DELETE with no effective WHERE (none, tautological, only in a subquery)",
    "sql.update_all": "UPDATE with no effective WHERE",
    "sql.delete": "DELETE scoped by a WHERE clause",
    "sql.update": "UPDATE scoped by a WHERE clause",
    "sql.alter_drop": "ALTER TABLE ... DROP COLUMN/CONSTRAINT",
    "sql.alter": "ALTER (rename, type change, other schema changes)",
    "sql.grant": "GRANT / REVOKE",
    "sql.terminate": "pg_terminate_backend / pg_cancel_backend / KILL, pg_ctl stop -m immediate",
    "sql.dynamic": "DO blocks and EXECUTE: SQL built at run time",
    "sql.write": "other writes: INSERT, COPY FROM, restores, locking maintenance",
    # processes
    "process.kill": "kill of a process by pid (tags: critical, db-main, init, self, all)",
    "process.kill_by_name": "pkill / killall: processes chosen by name or pattern",
    # files and disks
    "fs.delete_recursive": "rm -r, find -delete, rsync --delete: a tree removed",
    "fs.delete": "rm, unlink, shred of single files",
    "fs.truncate": "truncate -s 0, `> file`, cp /dev/null over a file",
    "fs.overwrite": "`>` onto an existing file, mv/cp onto an existing target",
    "fs.chmod_recursive": "chmod -R",
    "fs.chown_recursive": "chown -R / chgrp -R",
    "disk.wipe": "dd of=/dev/..., wipefs, shred of a device, lvremove/vgremove",
    "disk.format": "mkfs*, fdisk/parted/sgdisk partition changes",
    # Kubernetes and friends
    "k8s.delete": "kubectl delete (any kind)",
    "k8s.scale_zero": "kubectl scale --replicas=0",
    "k8s.drain": "kubectl drain",
    "k8s.cordon": "kubectl cordon",
    "k8s.apply": "kubectl apply / create / set / label --overwrite",
    "k8s.replace": "kubectl replace (incl. --force)",
    "k8s.patch": "kubectl patch",
    "k8s.edit": "kubectl edit",
    "k8s.rollout_restart": "kubectl rollout restart|undo|pause",
    "k8s.exec": "kubectl exec / debug / cp into a pod",
    "k8s.context_switch": (
        "kubectl config use-context|set-context: later commands hit another cluster"
    ),
    "helm.uninstall": "helm uninstall / delete",
    "helm.upgrade": "helm upgrade / install",
    "helm.rollback": "helm rollback",
    "terraform.destroy": "terraform destroy, apply -destroy",
    "terraform.apply": "terraform apply, import",
    "terraform.state_rm": "terraform state rm|mv|push|replace-provider, force-unlock",
    "terraform.taint": "terraform taint",
    "terraform.workspace_switch": (
        "terraform workspace select NAME: later runs hit another workspace"
    ),
    "cloud.delete": "aws/gcloud/az/doctl delete, terminate, rm -r",
    "cloud.stop": "stop / deallocate / restart of cloud instances",
    "cloud.modify": "modify-* / patch / update of cloud resources",
    "cloud.context_switch": (
        "gcloud config set project, az account set, doctl auth switch: later commands hit "
        "another account"
    ),
    # services and the system
    "service.stop": "systemctl stop|kill|mask|freeze|isolate, service X stop",
    "service.restart": "systemctl restart|reload, service X restart",
    "service.disable": "systemctl disable|mask, rc-update del, update-rc.d disable, chkconfig off",
    "system.shutdown": "shutdown, halt, poweroff, init 0|1, suspend/hibernate, rescue/emergency",
    "system.reboot": "reboot, init 6, shutdown -r",
    "system.crontab_remove": "crontab -r, crontab FILE|-: every scheduled job replaced or removed",
    # git
    "git.force_push": "git push --force / -f / +ref / --force-with-lease",
    "git.reset_hard": "git reset --hard, checkout/restore of everything, worktree remove --force",
    "git.clean": "git clean -f (incl. -d, -x)",
    "git.delete_remote_branch": "git push --delete / :branch",
    "git.delete_branch": "git branch -D, git update-ref -d refs/heads/BRANCH",
    "git.stash_drop": "git stash drop / clear: stashed work discarded",
    "git.delete_ref": "git tag -d, git update-ref -d REF: a tag or other ref deleted locally",
    "git.prune": (
        "git reflog expire --expire[-unreachable]=now, gc --prune=now, prune: lost commits "
        "can no longer be recovered"
    ),
    "git.rm": "git rm -r (or a quoted glob pathspec): tracked files deleted from the work tree",
    # data stores
    "redis.flush": "FLUSHALL / FLUSHDB",
    "redis.delete": "DEL / UNLINK / GETDEL, EXPIRE|PEXPIRE <= 0, EXPIREAT|PEXPIREAT in the past",
    "redis.rename": "RENAME a b: b's value replaced (tag overwrite); RENAMENX (severity none)",
    "redis.config": "CONFIG SET, SHUTDOWN, DEBUG",
    "mongo.drop_database": "db.dropDatabase()",
    "mongo.drop": "db.collection.drop()",
    "mongo.delete_all": "deleteMany({}) / remove({}) / updateMany({}, ...)",
    "mongo.delete": "deleteMany/remove with a non-empty filter, deleteOne, findOneAndDelete",
    "mongo.drop_other": "dropIndex(es), dropUser/dropRole (low); dropAllUsers/dropAllRoles (high)",
    "mongo.shutdown": "db.shutdownServer(), runCommand({shutdown: 1})",
    # containers
    "container.remove": "docker/podman rm, rmi, volume/network/secret/stack rm, compose down",
    "container.kill": "docker/podman kill, stop, restart, pause",
    "container.prune": "docker/podman system|volume|container|image prune, compose down -v",
    # network
    "net.firewall_flush": (
        "iptables -F/-X/-P DROP, nft flush ruleset, ufw disable; DROP/REJECT rules added, ufw "
        "enable|deny|default deny (tag lockout when ssh to the host can be cut off)"
    ),
    "net.link_down": "ip link set down, ifdown, address flush, default route removed, nmcli down",
    # shells
    "shell.escape": "an interactive shell that leaves the guard: bash, sudo -i/-s, su -",
    "shell.opaque": "a program or text that cannot be known statically",
}


def documented(action: str) -> bool:
    return action in ACTIONS
