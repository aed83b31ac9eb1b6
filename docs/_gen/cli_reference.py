"""Writes reference/cli.md at build time (mkdocs-gen-files) from the argument parsers of
`blazepose` and `blazepose-convert`: every command, subcommand and option, with its default and
its help as `--help` prints it, so the page cannot drift from the code."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import mkdocs_gen_files

import blazepose_onnx

PACKAGE = Path(blazepose_onnx.__file__).resolve().parent
ROOT = Path(__file__).resolve().parents[2]


def shown(value: object) -> str:
    """A default as the page shows it: paths of this machine made generic."""
    text = str(value)
    for folder, name in ((PACKAGE, "blazepose_onnx"), (ROOT, "<checkout>")):
        text = text.replace(str(folder), name)
    return text.replace(str(Path.home()), "~")


def help_text(action: argparse.Action, prog: str) -> str:
    """The action's help with argparse's %(...)s fields filled in, as --help prints it."""
    if not action.help or action.help is argparse.SUPPRESS:
        return ""
    fields = {k: v for k, v in vars(action).items() if v is not argparse.SUPPRESS}
    fields["prog"] = prog
    if fields.get("choices") is not None:
        fields["choices"] = ", ".join(map(str, fields["choices"]))
    fields["default"] = shown(fields.get("default"))
    text = action.help % fields
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")  # table cell


def default_of(action: argparse.Action) -> str:
    if action.required or action.default is None or action.default is argparse.SUPPRESS:
        return "required" if action.required else ""
    return f"`{shown(action.default)}`"


def option_name(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    names = ", ".join(f"`{name}`" for name in action.option_strings)
    if action.nargs == 0:
        return names
    metavar = action.metavar or (
        "{" + ",".join(map(str, action.choices)) + "}" if action.choices else action.dest.upper()
    )
    return f"{names} `{metavar}`"


def subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    return [
        (name, sub)
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name, sub in action.choices.items()
    ]


def section(parser: argparse.ArgumentParser, depth: int) -> list[str]:
    """A command's heading, usage, options table, then each subcommand's section."""
    lines = [f"{'#' * depth} `{parser.prog}`", ""]
    if parser.description:
        lines += [parser.description, ""]
    first, *rest = shown(parser.format_usage()).removeprefix("usage: ").rstrip().splitlines()
    usage = "\n".join([first, *(line[len("usage: ") :] for line in rest)])
    lines += ["```text", usage, "```", ""]
    rows = [
        f"| {option_name(a)} | {default_of(a)} | {help_text(a, parser.prog)} |"
        for a in parser._actions
        if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))
    ]
    if rows:
        lines += ["| argument | default | what it does |", "|---|---|---|", *rows, ""]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {c.dest: c.help for c in action._choices_actions}
            lines += ["| subcommand | what it does |", "|---|---|"]
            lines += [f"| `{name}` | {helps.get(name, '')} |" for name in action.choices]
            lines.append("")
    for _, sub in subcommands(parser):
        lines += section(sub, depth + 1)
    return lines


def page() -> str:
    """The CLI reference page, built from the parsers with the machine's model folder unset."""
    from blazepose_onnx.cli.convert import build_parser as convert_parser
    from blazepose_onnx.cli.main import build_parser as blazepose_parser

    saved = os.environ.pop("BLAZEPOSE_MODEL_DIR", None)
    try:
        parsers = (blazepose_parser(), convert_parser())
    finally:
        if saved is not None:
            os.environ["BLAZEPOSE_MODEL_DIR"] = saved
    intro = [
        "# Command-line reference",
        "",
        "Generated from the argument parsers when the site is built: every command, subcommand",
        "and option, with its default, as `--help` prints it. The [Command line](../cli.md)",
        "page shows them at work.",
        "",
    ]
    body = [line for parser in parsers for line in section(parser, 2)]
    return "\n".join(intro + body) + "\n"


with mkdocs_gen_files.open("reference/cli.md", "w") as out:
    out.write(page())
