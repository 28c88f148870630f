"""The JSON API under /api/v1: flask-smorest blueprints, bearer tokens, one error shape, OpenAPI."""
