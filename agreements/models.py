"""Models arrive with this app's first issue; the app is installed so migrations and URLs exist."""
