"""Slack listeners, one module per kind of request, each exposing `register(app)`.

`LISTENER_MODULES` is the single list the app factory registers; add a module here.
"""

from __future__ import annotations

from handlers import alert_actions, direct_message, files, live_actions, mention, shortcut, vpn_command

LISTENER_MODULES = (mention, files, direct_message, shortcut, alert_actions, vpn_command, live_actions)
