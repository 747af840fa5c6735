"""``jitu user create``: accounts from the command line."""

from __future__ import annotations

import asyncio
import sys

import click

from marketplace.vocabulary import Role


@click.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Kata sandi (ditanyakan bila tidak diberikan)")
@click.option("--name", "full_name", default="", help="Nama lengkap")
@click.option("--email", default="")
@click.option("--lks", "lks_id", type=int, default=None, help="Id LKS (untuk staf LKS)")
@click.option("--kelurahan", "kelurahan_code", default=None, help="Kode kelurahan (untuk operator kelurahan)")
@click.option("--office", "office_code", default=None, help="Kode instansi (staf instansi), mis. kesehatan")
def create_user(username: str, role: str, password: str, full_name: str, email: str, lks_id: int | None,
                kelurahan_code: str | None, office_code: str | None) -> None:
    """Buat akun baru."""
    from portal.auth import hash_password
    from storage.accounts import AccountError, create_account

    if len(password) < 8:
        click.echo("Kata sandi minimal 8 karakter.", err=True)
        sys.exit(2)
    try:
        account_id = asyncio.run(create_account(
            username=username, password_hash=hash_password(password), role=role, full_name=full_name,
            email=email, lks_id=lks_id, kelurahan_code=kelurahan_code, office_code=office_code, actor="cli",
        ))
    except AccountError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    click.echo(f"Akun {username} ({role}) dibuat dengan id {account_id}.")


@click.command("reset-mfa")
@click.argument("username")
@click.option("--reason", required=True, help="Alasan (dicatat di jejak audit), mis. ponsel hilang")
def reset_mfa(username: str, reason: str) -> None:
    """Hapus faktor kedua akun yang ponselnya hilang (bila tak ada admin lain yang dapat meresetnya)."""
    from storage import logins
    from storage.accounts import find_by_username
    from storage.logins import second_factor

    async def run() -> bool:
        row = await find_by_username(username)
        if row is None:
            click.echo(f"Akun {username} tidak ada.", err=True)
            sys.exit(2)
        if not await second_factor.reset("cli", row["id"], reason):
            return False
        await logins.end_sessions("cli", row["id"], None, "second factor reset")
        return True

    if asyncio.run(run()):
        click.echo(f"Faktor kedua {username} dihapus; semua sesinya diakhiri. Akun memasang ulang saat masuk.")
    else:
        click.echo(f"Akun {username} tidak memakai faktor kedua.")


def register(cli: click.Group) -> None:
    from portal.cli import subgroup

    group = subgroup(cli, "user", "Akun pengguna.")
    group.add_command(create_user)
    group.add_command(reset_mfa)
