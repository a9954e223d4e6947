#!/usr/bin/env bash
# Install guardsh from this checkout. Idempotent: running it again repairs or upgrades.
#
#   ./install.sh                 user install: ~/.local/share/guardsh/venv, ~/.local/bin/guardsh
#   ./install.sh --dev           ./.venv in the checkout, editable, with every test dependency
#   ./install.sh --system        (root) /opt/guardsh, /usr/local/bin/guardsh, /etc/guardsh/policy.d/
#   ./install.sh --uninstall [--system|--dev]   undo that mode's install
#
# Environment: GUARDSH_PYTHON (interpreter to build the venv with, default python3),
# GUARDSH_SKIP_APT=1 (never call apt-get).
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SRC
readonly PROG="install.sh"
readonly MIN_PY="3.11"
readonly DEV_APT_PACKAGES=(postgresql redis-server tmux mariadb-server sqlite3)

usage() {
    cat <<EOF
Usage: ./$PROG [--dev | --system] [--set-shell USER]... [--uninstall]

  (no option)       user install: a venv under ~/.local/share/guardsh/, guardsh linked
                    into ~/.local/bin (and /usr/local/bin when root and ~/.local/bin is
                    not on PATH)
  --dev             ./.venv in this checkout, guardsh installed editable with every test
                    dependency; as root also apt-get installs: ${DEV_APT_PACKAGES[*]}
  --system          (root) venv in /opt/guardsh, /usr/local/bin/guardsh, /etc/guardsh/policy.d/
                    seeded with the default policy, guardsh added to /etc/shells
  --set-shell USER  with --system: make guardsh USER's login shell (repeatable)
  --uninstall       remove what the chosen mode installed (edited policy files are kept)
  -h, --help        this text

Environment: GUARDSH_PYTHON=/path/to/python3.11+  GUARDSH_SKIP_APT=1
EOF
}

say() { printf '%s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}
usage_error() {
    printf '%s: %s\n\n' "$PROG" "$*" >&2
    usage >&2
    exit 2
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }
have() { command -v "$1" >/dev/null 2>&1; }
apt_allowed() { is_root && have apt-get && [[ "${GUARDSH_SKIP_APT:-0}" != 1 ]]; }
deb_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

APT_UPDATED=0
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if [[ $APT_UPDATED -eq 0 ]]; then
        step "apt-get update"
        apt-get update -q || die "apt-get update failed"
        APT_UPDATED=1
    fi
    step "apt-get install -y $*"
    apt-get install -y -q "$@" || die "apt-get install $* failed"
}

# --------------------------------------------------------------------------- arguments
MODE=user
UNINSTALL=0
SET_SHELL=()
while [[ $# -gt 0 ]]; do
    case "$1" in
    --dev) [[ $MODE == user ]] || usage_error "--dev and --system exclude each other"; MODE=dev ;;
    --system) [[ $MODE == user ]] || usage_error "--dev and --system exclude each other"; MODE=system ;;
    --uninstall) UNINSTALL=1 ;;
    --set-shell)
        [[ $# -ge 2 && -n "$2" && "$2" != -* ]] || usage_error "--set-shell needs a USER"
        SET_SHELL+=("$2")
        shift
        ;;
    --set-shell=*) SET_SHELL+=("${1#--set-shell=}") ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown option: $1" ;;
    esac
    shift
done
if [[ ${#SET_SHELL[@]} -gt 0 && $MODE != system ]]; then
    usage_error "--set-shell only works with --system (a login shell must be in /etc/shells)"
fi
if [[ ${#SET_SHELL[@]} -gt 0 && $UNINSTALL -eq 1 ]]; then
    usage_error "--set-shell and --uninstall exclude each other"
fi
if [[ $MODE == system ]] && ! is_root; then
    die "--system installs into /opt, /usr/local/bin and /etc: run it as root (sudo ./$PROG --system)"
fi
for user in "${SET_SHELL[@]}"; do
    getent passwd "$user" >/dev/null || die "--set-shell: no such user: $user"
done

# --------------------------------------------------------------------------- where things go
case $MODE in
user)
    [[ -n "${HOME:-}" ]] || die "HOME is not set"
    PREFIX="$HOME/.local/share/guardsh"
    VENV="$PREFIX/venv"
    BIN_DIR="$HOME/.local/bin"
    ;;
dev)
    PREFIX="$SRC"
    VENV="$SRC/.venv"
    BIN_DIR=""
    ;;
system)
    PREFIX="/opt/guardsh"
    VENV="$PREFIX/venv"
    BIN_DIR="/usr/local/bin"
    ;;
esac
readonly GLOBAL_LINK="/usr/local/bin/guardsh"
readonly ETC_DIR="/etc/guardsh"
readonly POLICY_DIR="$ETC_DIR/policy.d"
readonly SEEDED_POLICY="$POLICY_DIR/00-default.yaml"
readonly SEED_RECORD="/opt/guardsh/seeded-policy.sha256"
readonly SHELLS_FILE="/etc/shells"
readonly AUDIT_DIR="/var/log/guardsh"
readonly UNIT_DIR="/etc/systemd/system"
readonly AUDIT_UNITS=(guardsh-audit.socket guardsh-audit.service)

have_systemd() { [[ -d /run/systemd/system ]] && have systemctl; }

# The audit collector: a root-owned log directory and its systemd units.
install_audit_collector() {
    install -d -m 0700 -o root -g root "$AUDIT_DIR"
    say "audit log directory: $AUDIT_DIR (root only)"
    local unit
    for unit in "${AUDIT_UNITS[@]}"; do
        install -m 0644 "$SRC/packaging/$unit" "$UNIT_DIR/$unit"
    done
    say "installed ${AUDIT_UNITS[*]} into $UNIT_DIR"
    if have_systemd; then
        systemctl daemon-reload
        systemctl enable --now "${AUDIT_UNITS[@]}" && say "audit collector enabled and started"
    else
        warn "systemd is not running here: start the collector by hand as root:"
        say "    $GLOBAL_LINK audit serve --log $AUDIT_DIR/audit.jsonl &"
    fi
}

uninstall_audit_collector() {
    local unit
    if have_systemd; then
        systemctl disable --now "${AUDIT_UNITS[@]}" 2>/dev/null || true
    fi
    for unit in "${AUDIT_UNITS[@]}"; do
        if [[ -f "$UNIT_DIR/$unit" ]]; then
            rm -f "$UNIT_DIR/$unit"
            say "removed $UNIT_DIR/$unit"
        fi
    done
    if have_systemd; then systemctl daemon-reload; fi
    if [[ -d "$AUDIT_DIR" ]]; then say "kept $AUDIT_DIR: audit records are evidence"; fi
}

on_path() {
    case ":$PATH:" in *":$1:"*) return 0 ;; esac
    return 1
}

# Users whose login shell is LINK: removing it would lock them out.
users_with_shell() {
    getent passwd 2>/dev/null | awk -F: -v s="$1" '$7 == s { print $1 }' || true
}

# Remove LINK only if it is a symlink into our venv; never someone else's file.
remove_our_link() {
    local link=$1
    if [[ -L "$link" && "$(readlink "$link")" == "$VENV/bin/guardsh" ]]; then
        rm -f "$link"
        say "removed $link"
    elif [[ -e "$link" || -L "$link" ]]; then
        say "kept $link: it does not point into $VENV"
    fi
}

# Point LINK at our venv's guardsh, refusing to replace anything that is not a symlink.
make_link() {
    local link=$1
    local target="$VENV/bin/guardsh"
    if [[ -e "$link" && ! -L "$link" ]]; then
        die "$link exists and is not a symlink; move it away and run ./$PROG again"
    fi
    ln -sfn "$target" "$link" || die "cannot create $link: no write access to $(dirname "$link")"
}

# --------------------------------------------------------------------------- uninstall
uninstall_shell_check() {
    local link=$1 users
    users="$(users_with_shell "$link")"
    if [[ -n "$users" ]]; then
        die "these users have $link as login shell; change it first (chsh -s /bin/bash USER): ${users//$'\n'/ }"
    fi
}

# Analysis servers (guardsh -c's fast path) of this install leave when idle;
# stop them now so that nothing runs from the removed files.
stop_analysis_servers() {
    local venv=$1
    if command -v pkill >/dev/null; then
        pkill -f "^$venv/bin/python[0-9.]* -P -m guardsh[.]run[.]server " 2>/dev/null || true
    fi
}

uninstall() {
    case $MODE in
    dev)
        stop_analysis_servers "$VENV"
        if [[ -d "$VENV" ]]; then
            rm -rf "$VENV"
            say "removed $VENV"
        else
            say "nothing to remove: $VENV does not exist"
        fi
        ;;
    user)
        uninstall_shell_check "$BIN_DIR/guardsh"
        stop_analysis_servers "$VENV"
        remove_our_link "$BIN_DIR/guardsh"
        if is_root; then remove_our_link "$GLOBAL_LINK"; fi
        if [[ -d "$PREFIX" ]]; then
            rm -rf "$PREFIX"
            say "removed $PREFIX"
        fi
        say "kept ~/.config/guardsh and the audit log, if any (your data)"
        ;;
    system)
        uninstall_shell_check "$GLOBAL_LINK"
        stop_analysis_servers "$VENV"
        uninstall_audit_collector
        remove_our_link "$GLOBAL_LINK"
        if [[ -f "$SHELLS_FILE" ]] && grep -qxF "$GLOBAL_LINK" "$SHELLS_FILE"; then
            local tmp
            tmp="$(mktemp)"
            grep -vxF "$GLOBAL_LINK" "$SHELLS_FILE" >"$tmp" || true
            cat "$tmp" >"$SHELLS_FILE"
            rm -f "$tmp"
            say "removed $GLOBAL_LINK from $SHELLS_FILE"
        fi
        if [[ -f "$SEEDED_POLICY" ]]; then
            if [[ -f "$SEED_RECORD" ]] && sha256sum --status -c "$SEED_RECORD" 2>/dev/null; then
                rm -f "$SEEDED_POLICY"
                say "removed $SEEDED_POLICY (unchanged since install)"
            else
                say "kept $SEEDED_POLICY: it was edited after install"
            fi
        fi
        if [[ -d "$POLICY_DIR" ]]; then
            if rmdir "$POLICY_DIR" 2>/dev/null; then
                say "removed $POLICY_DIR"
            else
                say "kept $POLICY_DIR: it holds files you added or edited"
            fi
        fi
        if [[ -d "$ETC_DIR" ]] && rmdir "$ETC_DIR" 2>/dev/null; then say "removed $ETC_DIR"; fi
        if [[ -d "$PREFIX" ]]; then
            rm -rf "$PREFIX"
            say "removed $PREFIX"
        fi
        ;;
    esac
    say "guardsh ($MODE install) is uninstalled."
}

if [[ $UNINSTALL -eq 1 ]]; then
    uninstall
    exit 0
fi

# --------------------------------------------------------------------------- python and venv
[[ -f "$SRC/pyproject.toml" && -d "$SRC/guardsh" ]] ||
    die "$SRC is not a guardsh checkout (no pyproject.toml or guardsh/)"

PY="${GUARDSH_PYTHON:-python3}"
if ! have "$PY"; then
    if [[ -z "${GUARDSH_PYTHON:-}" ]] && apt_allowed; then
        apt_install python3 python3-venv
    fi
    have "$PY" || die "python3 not found ($PY): install Python $MIN_PY or newer (Debian: apt-get install python3 python3-venv)"
fi
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "$PY is Python $("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])'); guardsh needs $MIN_PY or newer (set GUARDSH_PYTHON=/path/to/python3.11)"

# Debian ships venv's ensurepip (the bundled pip) separately, in python3-venv.
has_venv_module() { "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; }
if ! has_venv_module; then
    if apt_allowed; then
        apt_install python3-venv
    fi
    has_venv_module ||
        die "$PY has no working venv module (ensurepip missing); install it: apt-get install python3-venv"
fi

# --------------------------------------------------------------------------- create / reuse the venv
# Make a directory, turning "Permission denied" and friends into one clear error.
ensure_dir() {
    mkdir -p "$1" 2>/dev/null || die "cannot create $1: no write access (or a file is in the way)"
    [[ -w "$1" ]] || die "no write access to $1"
}

if [[ $MODE == system ]]; then umask 022; fi
ensure_dir "$(dirname "$VENV")"
if [[ -e "$VENV" && ! -f "$VENV/pyvenv.cfg" ]]; then
    die "$VENV exists but is not a virtual environment; move it away and run ./$PROG again"
fi
if [[ -f "$VENV/pyvenv.cfg" ]] && ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
    step "the venv in $VENV is broken or too old; recreating it"
    rm -rf "$VENV"
fi
if [[ ! -f "$VENV/pyvenv.cfg" ]]; then
    step "creating a virtual environment in $VENV ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"
    "$PY" -m venv "$VENV" || die "python3 -m venv $VENV failed (Debian: apt-get install python3-venv)"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)

# --------------------------------------------------------------------------- install the package
case $MODE in
dev)
    step "installing guardsh editable with the dev extra into $VENV"
    "${PIP[@]}" install -e "${SRC}[dev]" || die "pip install -e '.[dev]' failed"
    ;;
*)
    step "installing guardsh from $SRC into $VENV"
    # pip always reinstalls a local directory, so a re-run picks up changed sources even
    # when the version did not change; dependencies are left alone when already satisfied.
    "${PIP[@]}" install -q "$SRC" || die "pip install $SRC failed"
    ;;
esac
[[ -x "$VENV/bin/guardsh" ]] || die "pip did not create $VENV/bin/guardsh"

# A login shell that does not start locks people out: check it runs before linking it anywhere.
check_runs() {
    local out
    if out="$("$VENV/bin/guardsh" --help 2>&1)"; then
        return 0
    fi
    printf '%s\n' "$out" | tail -n 5 >&2
    return 1
}

# --------------------------------------------------------------------------- per mode
seed_policy() {
    local default="$SRC/guardsh/policy/default.yaml"
    install -d -m 0755 -o root -g root "$ETC_DIR" "$POLICY_DIR"
    chmod 0755 "$ETC_DIR" "$POLICY_DIR"
    if [[ ! -f "$default" ]]; then
        warn "$default is missing from the checkout; $POLICY_DIR was not seeded"
        return
    fi
    if [[ ! -e "$SEEDED_POLICY" ]]; then
        install -m 0644 -o root -g root "$default" "$SEEDED_POLICY"
        sha256sum "$SEEDED_POLICY" >"$SEED_RECORD"
        say "seeded $SEEDED_POLICY with the default policy"
    elif [[ -f "$SEED_RECORD" ]] && sha256sum --status -c "$SEED_RECORD" 2>/dev/null; then
        # Unedited since we seeded it: follow the packaged default (like a dpkg conffile).
        if ! cmp -s "$default" "$SEEDED_POLICY"; then
            install -m 0644 -o root -g root "$default" "$SEEDED_POLICY"
            sha256sum "$SEEDED_POLICY" >"$SEED_RECORD"
            say "updated $SEEDED_POLICY to the new default policy (it was not edited)"
        fi
    else
        say "kept $SEEDED_POLICY: it was edited (or not written by $PROG)"
    fi
}

case $MODE in
dev)
    if ! check_runs; then
        warn "$VENV/bin/guardsh --help failed (the checkout may be mid-change); the tests will tell more"
    fi
    if apt_allowed; then
        missing=()
        for pkg in "${DEV_APT_PACKAGES[@]}"; do
            deb_installed "$pkg" || missing+=("$pkg")
        done
        if [[ ${#missing[@]} -gt 0 ]]; then
            apt_install "${missing[@]}"
        else
            say "test tools already installed: ${DEV_APT_PACKAGES[*]}"
        fi
    else
        for tool in initdb:postgresql redis-server:redis-server tmux:tmux mariadbd:mariadb-server sqlite3:sqlite3; do
            bin=${tool%%:*}
            if ! have "$bin" && ! compgen -G "/usr/lib/postgresql/*/bin/$bin" >/dev/null; then
                warn "$bin not found; tests that need it will fail: apt-get install ${tool#*:}"
            fi
        done
    fi
    say ""
    say "guardsh dev environment ready in $VENV"
    say "  run it:     $VENV/bin/guardsh"
    say "  run tests:  .venv/bin/python -m pytest"
    ;;
user)
    check_runs || die "$VENV/bin/guardsh --help failed; not linking a broken guardsh (output above)"
    ensure_dir "$BIN_DIR"
    make_link "$BIN_DIR/guardsh"
    say ""
    say "guardsh is installed: $BIN_DIR/guardsh -> $VENV/bin/guardsh"
    say "It uses the built-in default policy; your own goes in ~/.config/guardsh/policy.yaml."
    if ! on_path "$BIN_DIR"; then
        if is_root; then
            if [[ -e "$GLOBAL_LINK" && ! (-L "$GLOBAL_LINK" && "$(readlink "$GLOBAL_LINK")" == "$VENV/bin/guardsh") ]]; then
                warn "$BIN_DIR is not on PATH and $GLOBAL_LINK belongs to another install; kept it"
            else
                make_link "$GLOBAL_LINK"
                say "$BIN_DIR is not on PATH, so also linked $GLOBAL_LINK -> $VENV/bin/guardsh"
            fi
        else
            warn "$BIN_DIR is not on your PATH. Add it (and to ~/.profile to keep it):"
            say "    export PATH=\"$BIN_DIR:\$PATH\""
        fi
    fi
    say ""
    say "Start it:                guardsh"
    say "Try the analysis:        guardsh check --as production -- 'rm -rf /var/lib/postgresql'"
    say "Make it your login shell (keep another session open while you try it):"
    say "    echo $BIN_DIR/guardsh | sudo tee -a /etc/shells && chsh -s $BIN_DIR/guardsh"
    say "  or, for every user on a bastion: sudo ./$PROG --system --set-shell USER"
    ;;
system)
    check_runs || die "$VENV/bin/guardsh --help failed; not linking a broken guardsh (output above)"
    chmod -R u=rwX,go=rX "$PREFIX"
    make_link "$GLOBAL_LINK"
    say "linked $GLOBAL_LINK -> $VENV/bin/guardsh"
    seed_policy
    install_audit_collector
    touch "$SHELLS_FILE"
    if ! grep -qxF "$GLOBAL_LINK" "$SHELLS_FILE"; then
        if [[ -s "$SHELLS_FILE" && -n "$(tail -c 1 "$SHELLS_FILE")" ]]; then
            printf '\n' >>"$SHELLS_FILE" # the last line had no newline
        fi
        printf '%s\n' "$GLOBAL_LINK" >>"$SHELLS_FILE"
        say "added $GLOBAL_LINK to $SHELLS_FILE"
    fi
    for user in "${SET_SHELL[@]}"; do
        "$GLOBAL_LINK" -c true || die "$GLOBAL_LINK -c true failed; not making it $user's login shell"
        chsh -s "$GLOBAL_LINK" "$user" || die "chsh -s $GLOBAL_LINK $user failed"
        say "login shell of $user is now $GLOBAL_LINK"
    done
    say ""
    say "guardsh is installed for everyone: $GLOBAL_LINK"
    say "System policy: $POLICY_DIR/*.yaml (root-owned, not group/world-writable)"
    say "Start it:                 guardsh"
    if [[ ${#SET_SHELL[@]} -eq 0 ]]; then
        say "Make it a login shell:    sudo ./$PROG --system --set-shell USER"
        say "                          (or: chsh -s $GLOBAL_LINK USER); no login shell was changed"
    fi
    ;;
esac
