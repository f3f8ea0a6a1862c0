"""`rea keys generate | public`: Ed25519 keys for Restate's request identity.

restate-server signs each request to a deployment with a private key; the app checks the
signature with the matching ``publickeyv1_...`` key. `generate` writes the private key (mode
0600) and prints both sides' settings; `public` derives the app's key from an existing PEM.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from rea.cli._output import EXIT_USAGE, console, fail, print_json
from rea.errors import UsageValueError
from rea.security._keys import (
    SERVER_KEY_ENV,
    SERVER_KEY_SECTION,
    SERVER_KEY_SETTING,
    generate_key_pair,
    public_key_from_pem,
    write_private_key,
)

app = typer.Typer(help="Keys for Restate's request signing (request identity).")

#: The file `generate` writes in its directory.
PRIVATE_KEY_FILE = "private.pem"

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object instead.", show_default=False)
]


def settings(private_key: Path, public_key: str) -> dict[str, Any]:
    """What the server and the app need to sign and check requests with this key pair."""
    toml_path = json.dumps(str(private_key))  # a JSON string is a TOML basic string too
    return {
        "private_key_file": str(private_key),
        "public_key": public_key,
        "server": {
            "env": {SERVER_KEY_ENV: str(private_key)},
            "toml": f"[{SERVER_KEY_SECTION}]\n{SERVER_KEY_SETTING} = {toml_path}",
        },
        "app": {
            "env": {"REA_IDENTITY_KEYS": public_key},
            "python": f"rea.SecurityConfig(identity_keys=[{public_key!r}])",
        },
    }


@app.command("generate")
def generate(
    out: Annotated[
        Path, typer.Option(help="Directory for the private key (created with mode 0700).")
    ] = Path(".rea/keys"),
    force: Annotated[
        bool, typer.Option(help="Replace an existing private key in that directory.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Write a new private key for the Restate server and print the app's public key."""
    pair = generate_key_pair()
    fresh_dir = not out.exists()
    try:
        written = write_private_key(out / PRIVATE_KEY_FILE, pair.private_pem, overwrite=force)
    except UsageValueError as exc:
        fail(
            f"{exc} (--force replaces it: a server signing with the new key is refused by "
            "apps that list only the old public key)",
            code=EXIT_USAGE,
        )
    except OSError as exc:
        fail(f"cannot write {out / PRIVATE_KEY_FILE}: {exc.strerror or exc}")
    if fresh_dir:
        # A key in a new directory inside a project must not end up in a commit by accident.
        (out / ".gitignore").write_text("*\n")
    document = settings(written, pair.public_key)
    if json_output:
        print_json(document)
        return
    toml = "\n".join(f"  {line}" for line in document["server"]["toml"].splitlines())
    text = f"""\
Wrote the server's private key to {written} (mode 0600; keep it secret)
App public key: {pair.public_key}

Restate server: sign every request with it, by environment variable
  {SERVER_KEY_ENV}={written}
or in its TOML configuration
{toml}

App: accept only requests signed with it, by environment variable
  REA_IDENTITY_KEYS={pair.public_key}
or in code: rea.app(services, security=...)
  {document["app"]["python"]}"""
    console.print(text, markup=False)


@app.command("public")
def public(
    pem: Annotated[Path, typer.Argument(help="A PEM file: Ed25519 private or public key.")],
    json_output: JsonOption = False,
) -> None:
    """Print the publickeyv1_... key (what the app lists) of an existing PEM key."""
    try:
        data = pem.read_bytes()
    except OSError as exc:
        fail(f"cannot read {pem}: {exc.strerror or exc}", code=EXIT_USAGE)
    try:
        key = public_key_from_pem(data)
    except UsageValueError as exc:
        fail(f"{pem}: {exc}", code=EXIT_USAGE)
    if json_output:
        print_json({"pem": str(pem.absolute()), "public_key": key})
        return
    console.print(key, markup=False)
