"""CLI sub-commands, one module each.

Each module defines ``NAME``, ``HELP``, ``configure(parser)`` and ``run(args) -> int``;
``slam.cli`` discovers them, so adding a command touches no shared file. Heavy
imports (torch, gradio) belong inside ``run`` to keep ``slam --help`` fast.
"""
