"""VPN Doctor's diagnosis library: pure Python, no network, no Slack.

Callers use `diagnose_text` / `diagnose_lines` for logs and `check_peer` for a
Dashboard peer definition; both return a `Diagnosis`.
"""
