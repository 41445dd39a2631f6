"""The ``slam`` command line: discovers the sub-commands in ``slam.commands``.

Bad input never shows a traceback: a :class:`SlamError` or an unreadable file
prints one line on stderr and exits with code 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import slam.commands
from slam.errors import SlamError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slam", description="SLAM: digital breast tomosynthesis viewer, synthetic mammogram and detector."
    )
    parser.add_argument("--version", action="version", version=f"slam {slam.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(slam.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"slam.commands.{info.name}")
        sub = subparsers.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.configure(sub)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except SlamError as exc:
        print(f"slam {args.command}: error: {exc}", file=sys.stderr)
    except OSError as exc:  # unreadable input, a full disk: still one line
        print(f"slam {args.command}: error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"slam {args.command}: interrupted", file=sys.stderr)
        return 130
    return 2
