"""The `ivig` command line. Thin: parse arguments, call the core, print. Heavy imports are lazy."""

from __future__ import annotations

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="IVIG infusion planner. Computes and checks a plan a clinician prescribed; "
    "it never invents a dose or a rate.",
)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
