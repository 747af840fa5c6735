"""The ``jitu`` command line. Each module in ``portal/commands/`` adds its commands through
``register(cli)``, so a feature brings its commands without editing this file."""

from __future__ import annotations

import importlib
import pkgutil

import click

import storage  # noqa: F401  (sets PICCOLO_CONF before any table is used)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """jitu: satu pintu layanan kesejahteraan sosial Kota Bandung."""


def subgroup(parent: click.Group, name: str, help_text: str) -> click.Group:
    """The sub-group ``name`` of ``parent``, created on first use (several modules add to one group)."""
    existing = parent.commands.get(name)
    if isinstance(existing, click.Group):
        return existing
    group = click.Group(name, help=help_text)
    parent.add_command(group)
    return group


def _load_commands() -> None:
    from portal import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"portal.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(cli)


_load_commands()


def main() -> None:
    cli()
