"""Login, sessions, headers and the content security policy (issue 9)."""
