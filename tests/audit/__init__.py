"""Tests of the audit trail (issue 8): real processes, real files, real sockets."""
