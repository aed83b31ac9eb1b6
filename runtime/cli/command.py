"""What both command-line tools share: logging set-up, one-line errors, SIGINT and SIGTERM.

The project's own errors (`BlazePoseError`) and the OS errors a run expects from the machine and
the paths it is given (a full disk, a missing or unreadable file, a closed pipe) are one line;
anything else is a bug, and Python shows its traceback.
"""

from __future__ import annotations

import argparse
import difflib
import errno
import logging
import signal
import sys
import traceback

from blazepose_onnx.common.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, BlazePoseError
from blazepose_onnx.converter.errors import SourceError

EXPECTED_OS_ERRORS = frozenset(
    {
        errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.ELOOP,  # paths
        errno.EACCES, errno.EPERM, errno.EROFS, errno.EEXIST, errno.ENOTEMPTY,  # permissions
        errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EMFILE, errno.ENFILE,  # disks
        errno.EPIPE, errno.ECONNREFUSED, errno.ECONNRESET, errno.ETIMEDOUT,  # pipes, network
        errno.EHOSTUNREACH, errno.ENETUNREACH,
    }
)  # fmt: skip


class Terminated(BaseException):
    """SIGTERM (kill, docker stop, systemd) arrived: unwind like Ctrl-C, so every output is
    finished or removed, and exit with 143."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


class CommandFormatter(logging.Formatter):
    """Log records as the command's other messages: `prog: warning: ...`, like `prog: error:`."""

    def __init__(self, prog: str) -> None:
        super().__init__()
        self.prog = prog

    def format(self, record: logging.LogRecord) -> str:
        return f"{self.prog}: {record.levelname.lower()}: {super().format(record)}"


def expected(exc: BaseException) -> bool:
    """Whether `exc` is said in one line: one of the project's errors, or an OS error from the
    machine or the paths given (`EXPECTED_OS_ERRORS`)."""
    if isinstance(exc, BlazePoseError):
        return True
    return isinstance(exc, OSError) and exc.errno in EXPECTED_OS_ERRORS


def run_command(
    parser: argparse.ArgumentParser, argv: list[str] | None, supply_hint: str = ""
) -> int:
    """Parse `argv`, run the chosen subcommand, and turn expected errors into one line.

    `supply_hint` ends a SourceError (no source had the model) with this command's own way of
    giving a bundle by path. Exit codes: 0 success, 1 an expected error (printed as
    `prog: error: ...`; with `-v` its traceback first; any other exception is a bug and
    propagates with its traceback), 2 bad usage (argparse), 130 interrupted (SIGINT), 143
    terminated (SIGTERM).
    """
    args = parse_arguments(parser, argv)
    handler = logging.StreamHandler()
    handler.setFormatter(CommandFormatter(parser.prog))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, handlers=[handler])
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return args.run(args)
    except Exception as exc:
        if not expected(exc):
            raise
        if args.verbose:
            traceback.print_exc()
        hint = f" {supply_hint}" if isinstance(exc, SourceError) and supply_hint else ""
        print(f"{parser.prog}: error: {exc}{hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print(f"{parser.prog}: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    finally:
        signal.signal(signal.SIGTERM, previous)


def parse_arguments(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """`parser.parse_args`, except that an unknown option is reported with the usage of the
    subcommand it was given to and the closest option that subcommand has (exit code 2)."""
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        command = _chosen_subparser(parser, args)
        options = [o for action in command._actions for o in action.option_strings]
        close = difflib.get_close_matches(unknown[0].split("=")[0], options, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        command.error(f"unrecognized arguments: {' '.join(unknown)}{hint}")
    return args


def _chosen_subparser(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> argparse.ArgumentParser:
    """The innermost subcommand parser that `args` were parsed with."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = action.choices.get(getattr(args, action.dest, None) or "")
            if chosen is not None:
                return _chosen_subparser(chosen, args)
    return parser
