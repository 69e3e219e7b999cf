"""Security: users and tokens, passwords, the login throttle, the permission policy (form, field, row)."""
