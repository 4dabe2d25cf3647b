"""``python -m ids_extract`` runs the command line."""

from .cli import app

app(prog_name="ids-extract")
