"""`commune-radio user …`: accounts, roles, tokens and hamlet limits."""

from __future__ import annotations

import click

from controller.cli import controller_for, data_option, main, service_session


@main.group()
def user():
    """Manage accounts."""


@user.command("add")
@data_option
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "editor", "approver", "viewer", "alert-source"]),
              required=True, help="alert-source: a token that may only post CAP alerts")
@click.option("--password", default=None, help="default: generated and printed")
@click.option("--hamlet", "hamlets", multiple=True,
              help="limit the user to this hamlet (repeatable); default: the whole commune")
def user_add(settings, name, role, password, hamlets):
    """Create a user."""
    from controller.services import access, users

    ctl = controller_for(settings)
    with service_session(ctl) as s:
        _, pw = users.add_user(s, name, role, password, actor="cli",
                               areas=access.hamlet_ids_by_name(s, list(hamlets)))
    click.echo(f"created {role} {name}" + (f" limited to {', '.join(hamlets)}" if hamlets else ""))
    if not password:
        click.echo(f"password: {pw}")


@user.command("token")
@data_option
@click.argument("name")
def user_token(settings, name):
    """Print a new API token (last line of output)."""
    from controller.services import users

    ctl = controller_for(settings)
    with service_session(ctl) as s:
        token = users.new_token(s, name, actor="cli")
    click.echo(token)


@user.command("revoke-tokens")
@data_option
@click.argument("name")
def user_revoke_tokens(settings, name):
    """Revoke every API token of a user (audited)."""
    from controller.services import users

    ctl = controller_for(settings)
    with service_session(ctl) as s:
        n = users.revoke_tokens(s, name, actor="cli")
    click.echo(f"revoked {n} token(s) of {name}")


@user.command("role")
@data_option
@click.argument("name")
@click.argument("role", type=click.Choice(["admin", "editor", "approver", "viewer"]))
def user_role(settings, name, role):
    """Change a user's role (audited)."""
    from controller.services import users

    ctl = controller_for(settings)
    with service_session(ctl) as s:
        users.set_role(s, name, role, actor="cli")
    click.echo(f"{name} is now {role}")


@user.command("hamlets")
@data_option
@click.argument("name")
@click.option("--hamlet", "hamlets", multiple=True,
              help="a hamlet the user may send to and see (repeatable); none: the whole commune")
def user_hamlets(settings, name, hamlets):
    """Limit a user to hamlets, or give back the whole commune with no --hamlet (audited)."""
    from controller.services import access, users

    ctl = controller_for(settings)
    with service_session(ctl) as s:
        users.set_areas(s, users.get_user(s, name), access.hamlet_ids_by_name(s, list(hamlets)),
                        actor="cli")
    click.echo(f"{name} is limited to {', '.join(hamlets)}" if hamlets
               else f"{name} may use the whole commune")
