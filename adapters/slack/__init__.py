"""The Slack adapter: interviews in employees' DMs with the app, one thread per interview.

Public entry points:

* :func:`adapters.slack.runner.start_slack` — build the Bolt app from settings and run it (Socket Mode by
  default, HTTP mode with a signing secret);
* :func:`adapters.slack.listeners.register_listeners` — add the interview listeners to a Bolt ``AsyncApp``
  a team already runs;
* :class:`adapters.slack.adapter.SlackAdapter` — the :class:`bot.core.ports.Adapter` itself.

See ``docs/slack-setup.md``.
"""
