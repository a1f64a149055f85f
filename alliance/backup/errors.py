"""The one error of this package: a backup or restore that must not go ahead."""


class BackupError(Exception):
    """A backup that cannot be taken, or one that must not be restored, with why."""
