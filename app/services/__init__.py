"""Business logic. Services take explicit arguments (actor, scope); they never read the request."""
