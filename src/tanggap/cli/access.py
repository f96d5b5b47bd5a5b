"""Commands for organisations, members and API tokens."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from pydantic import ValidationError

from tanggap.auth import service as auth
from tanggap.auth.schemas import ACCOUNT_ROLES, ROLES
from tanggap.cli.common import CLI_ACTOR, fail, option_error, runtime_for, transaction
from tanggap.flaggers import service as flaggers
from tanggap.flaggers.schemas import FlaggerOrgIn, MemberIn
from tanggap.legal import accounts
from tanggap.legal.schemas import OfficerIn
from tanggap.review import team
from tanggap.reviewers import service as reviewers
from tanggap.reviewers.schemas import ReviewerIn

token_app = typer.Typer(help="API tokens.")
flagger_app = typer.Typer(help="Trusted flagger organisations and their members.")
member_app = typer.Typer(help="Members who log into the flagger portal.")
reviewer_app = typer.Typer(help="Reviewers, leads and admins of the review console.")
legal_app = typer.Typer(help="Legal officers: the register of authorities' requests.")
flagger_app.add_typer(member_app, name="member")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="platform, flagger, reviewer, lead, admin or legal.")],
    org: Annotated[str | None, typer.Option(help="Flagger organisation (flagger tokens).")] = None,
    user: Annotated[
        str | None,
        typer.Option(help="E-mail of an existing reviewer, lead, admin or legal account."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Who the token is for.")] = None,
) -> None:
    """Create a principal with ROLE (or use the account of --user) and print its token (only
    the token) on stdout."""
    if role not in ROLES:
        fail(f"--role: {role!r} is not one of {', '.join(ROLES)}", code=2)
    if role == "flagger" and not org:
        fail("--org: a flagger token needs the organisation's name", code=2)
    if role != "flagger" and org:
        fail("--org: only flagger tokens belong to an organisation", code=2)
    if role in ("reviewer", "lead", "legal") and not user:
        fail(
            f"--user: a {role} token belongs to a {role}'s account (their languages and "
            "clearances decide what they see); create one with `tanggap reviewer create`",
            code=2,
        )
    if user and role not in ACCOUNT_ROLES:
        fail(
            "--user: only reviewer, lead, admin and legal tokens belong to a person's account",
            code=2,
        )
    with runtime_for() as runtime, transaction(runtime) as session:
        if user:
            creator = "legal create" if role == "legal" else "reviewer create"
            account = reviewers.find_by_email(session=session, email=user)
            if account is None or account.role != role:
                fail(f"--user: no {role} account {user!r} (see `tanggap {creator}`)", code=2)
            issued = auth.issue_token(session=session, principal=account, actor=CLI_ACTOR)
        elif org:
            found = flaggers.get_by_name(session=session, name=org)
            if found is None:
                fail(f"--org: no flagger organisation named {org!r}; create it first", code=2)
            issued = flaggers.issue_org_token(
                session=session, org=found, name=name, actor=CLI_ACTOR
            )
        else:
            principal = auth.create_principal(
                session=session, role=role, name=name or f"{role} token", actor=CLI_ACTOR
            )
            issued = auth.issue_token(session=session, principal=principal, actor=CLI_ACTOR)
    typer.echo(issued.token)


@token_app.command("list")
def token_list(
    org: Annotated[str, typer.Option(help="The organisation whose tokens to list.")],
) -> None:
    """List an organisation's tokens: id, prefix, created, revoked."""
    with runtime_for() as runtime, transaction(runtime) as session:
        found = flaggers.find(session=session, name_or_id=org)
        for token in flaggers.org_tokens(session=session, org=found):
            revoked = token.revoked_at.isoformat() if token.revoked_at else "active"
            typer.echo(f"{token.id}  {token.prefix}…  {token.created_at.isoformat()}  {revoked}")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="The token's id.")]) -> None:
    """Revoke one token at once; requests carrying it get 401 from then on."""
    try:
        parsed = uuid.UUID(token_id)
    except ValueError:
        fail("TOKEN_ID: not a token id (a UUID; see `tanggap token list`)", code=2)
    with runtime_for() as runtime, transaction(runtime) as session:
        if not auth.revoke_token(session=session, token_id=parsed, actor=CLI_ACTOR):
            fail(f"TOKEN_ID: no active token {token_id}", code=2)
    typer.echo(f"revoked {token_id}", err=True)


@flagger_app.command("create")
def flagger_create(
    name: Annotated[str, typer.Option(help="The organisation's name.")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 country code.")],
    trust: Annotated[str, typer.Option(help="high or normal.")] = "normal",
    webhook_url: Annotated[str | None, typer.Option(help="Where notifications go.")] = None,
    contact_email: Annotated[str | None, typer.Option(help="Contact address.")] = None,
    language: Annotated[str | None, typer.Option(help="Portal language: id or en.")] = None,
) -> None:
    """Create a trusted flagger organisation; print its id, then its webhook secret."""
    try:
        data = FlaggerOrgIn.model_validate(
            {
                "name": name,
                "country": country,
                "trust": trust,
                "webhook_url": webhook_url,
                "contact_email": contact_email,
                "language": language,
            }
        )
    except ValidationError as exc:
        option_error(exc)
    with runtime_for() as runtime, transaction(runtime) as session:
        org = flaggers.create(session=session, data=data, actor=CLI_ACTOR)
        org_id, secret = org.id, org.webhook_secret
    typer.echo(str(org_id))
    typer.echo(f"webhook secret: {secret}")


@flagger_app.command("list")
def flagger_list() -> None:
    """List the organisations: id, country, trust, name."""
    with runtime_for() as runtime, transaction(runtime) as session:
        for org in flaggers.list_orgs(session=session):
            typer.echo(f"{org.id}  {org.country}  {org.trust:<6}  {org.name}")


@member_app.command("add")
def member_add(
    org: Annotated[str, typer.Argument(help="The organisation's name or id.")],
    email: Annotated[str, typer.Argument(help="The member's e-mail address (their login).")],
    name: Annotated[str | None, typer.Option(help="The member's name.")] = None,
) -> None:
    """Add a portal member; print the one-time password they must change at first login."""
    try:
        data = MemberIn.model_validate({"email": email, "name": name})
    except ValidationError as exc:
        option_error(exc)
    with runtime_for() as runtime, transaction(runtime) as session:
        found = flaggers.find(session=session, name_or_id=org)
        member = flaggers.add_member(session=session, org=found, data=data, actor=CLI_ACTOR)
    typer.echo(member.one_time_password)


@reviewer_app.command("create")
def reviewer_create(
    email: Annotated[str, typer.Argument(help="The reviewer's e-mail address (their login).")],
    languages: Annotated[
        str, typer.Option(help="Languages they read, comma-separated ISO 639-1 codes: id,en,ms.")
    ],
    clear: Annotated[
        list[str] | None,
        typer.Option(help="A restricted category they are cleared for (repeatable)."),
    ] = None,
    role: Annotated[str, typer.Option(help="reviewer, lead or admin.")] = "reviewer",
    name: Annotated[str | None, typer.Option(help="Their name (never shown to flaggers).")] = None,
) -> None:
    """Create a console account; print the one-time password they must change at first login."""
    clearances = [c.strip() for item in clear or [] for c in item.split(",") if c.strip()]
    try:
        data = ReviewerIn.model_validate(
            {
                "email": email,
                "name": name,
                "role": role,
                "languages": [code for code in languages.split(",") if code.strip()],
                "clearances": clearances,
            }
        )
    except ValidationError as exc:
        option_error(exc)
    with runtime_for() as runtime, transaction(runtime) as session:
        created = team.add_reviewer(
            session=session, data=data, policy=runtime.policy, actor=CLI_ACTOR
        )
    typer.echo(created.one_time_password)


@legal_app.command("create")
def legal_create(
    email: Annotated[str, typer.Argument(help="The officer's e-mail address (their login).")],
    name: Annotated[str | None, typer.Option(help="Their name.")] = None,
) -> None:
    """Create a legal officer's console account (the register of authorities' requests); print
    the one-time password they must change at first login."""
    try:
        data = OfficerIn.model_validate({"email": email, "name": name})
    except ValidationError as exc:
        option_error(exc)
    with runtime_for() as runtime, transaction(runtime) as session:
        created = accounts.create_officer(session=session, data=data, actor=CLI_ACTOR)
    typer.echo(created.one_time_password)
