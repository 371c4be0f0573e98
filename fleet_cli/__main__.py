"""`python -m fleet_cli`."""
from fleet_cli.main import app

app(prog_name="fleet")
