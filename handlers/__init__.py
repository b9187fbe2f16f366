"""Slack listeners, one module per kind of request, each exposing `register(app)`.

`LISTENER_MODULES` is the single list the app factory registers; add a module here.
"""

from __future__ import annotations

from handlers import alert_actions, direct_message, files, mention, shortcut

LISTENER_MODULES = (mention, files, direct_message, shortcut, alert_actions)
