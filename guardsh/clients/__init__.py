"""Guard statements typed inside interactive database clients.

`psql`, `mysql`/`mariadb`, `sqlite3`, `redis-cli` and `mongosh` started
against a protected target run under a pseudo-terminal proxy (proxy.py);
guardsh edits each line itself (editor.py), knows when a statement is
complete (statements.py), judges it against the client's real target
(session.py, targets.py) and sends it only when the policy is satisfied
(guarded.py). launch.py is the shell's entry point; kinds.py says how each
client's own line editing is turned off.
"""
