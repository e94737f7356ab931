"""WSGI entry point: `app` for gunicorn and `flask --app wsgi`."""
import sys

from webapp import create_app
from webapp.settings import SettingsError

try:
    app = create_app()
except SettingsError as error:
    # One clear line naming the variable to fix, not a traceback to read through.
    sys.stderr.write(f"Configuration error: {error}\n")
    raise SystemExit(1) from None
