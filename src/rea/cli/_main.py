"""`rea` CLI entry point: one typer app, sub-commands in their own modules."""

from __future__ import annotations

import typer

from rea.cli import (
    _approve,
    _dev,
    _dlq,
    _invocations,
    _invoke,
    _keys,
    _register,
    _serve,
    _server,
    _trace,
)

app = typer.Typer(
    name="rea",
    help="rea: durable Python apps on Restate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(_server.app, name="server")
app.add_typer(_dlq.app, name="dlq")
app.add_typer(_keys.app, name="keys")
app.command("dev")(_dev.dev)
app.command("register")(_register.register)
app.command("invocations")(_invocations.invocations)
app.command("invoke")(_invoke.invoke)
app.command("serve")(_serve.serve)
app.command("approve")(_approve.approve)
app.command("trace")(_trace.trace)


def main() -> None:
    """Run the `rea` command line."""
    app()
