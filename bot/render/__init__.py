"""Renderers: one Diagnosis, three presentations (terminal text, Markdown, Slack Block Kit)."""
