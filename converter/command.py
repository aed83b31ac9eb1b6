"""What both command-line tools share: logging set-up and one-line errors."""

from __future__ import annotations

import argparse
import logging
import sys


def run_command(
    parser: argparse.ArgumentParser, argv: list[str] | None, errors: tuple[type[BaseException], ...]
) -> int:
    """Parse `argv`, run the chosen subcommand, and turn expected errors into one line.

    Exit codes: 0 success, 1 an error from `errors` (printed as `prog: error: ...`, no
    traceback), 2 bad usage (argparse), 130 interrupted.
    """
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s"
    )
    try:
        return args.run(args)
    except errors as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
