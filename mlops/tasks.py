"""Django-Q2 calls these by dotted path; each only calls a service."""
