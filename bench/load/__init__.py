"""Load test: reporters and readers against gunicorn and PostgreSQL (``python -m bench.load.run``)."""
