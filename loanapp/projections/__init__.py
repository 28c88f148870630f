"""Risk projections of the reserve: feeding ``risk.projection`` from the database, stored runs and
snapshots, the staff page, the API and the CLI."""
