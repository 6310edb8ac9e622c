"""The `ivig` command line. Thin: parse arguments, call the core, print. Heavy imports are lazy."""

from __future__ import annotations

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="IVIG infusion planner. Computes and checks a plan a clinician prescribed; "
    "it never invents a dose or a rate.",
)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on"),
    port: int = typer.Option(8000, "--port", help="Port to listen on"),
    demo: bool = typer.Option(
        False, "--demo", help="Load a demo care team and patient; print the demo logins"
    ),
    workers: int = typer.Option(2, "--workers", min=1, help="gunicorn sync worker processes"),
) -> None:
    """Run the web app: migrate the database, then serve with gunicorn (see docs/web.md)."""
    from ivig.web.server import run

    run(host=host, port=port, demo=demo, workers=workers)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
