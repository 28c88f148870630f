"""Users, roles, sign-in (pages and API tokens) and login throttling."""
