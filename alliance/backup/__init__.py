"""Backup and restore of a deployment: the PostgreSQL database and the stored files.

A backup is one directory, written under a temporary name and renamed only once complete:

    database.dump      pg_dump's custom format, taken from one exported snapshot
    media/...          every file under MEDIA_ROOT (executed PDFs, agreement exports)
    audit-exports/...  the audit exports, when AUDIT_EXPORT_ROOT lies outside MEDIA_ROOT
    manifest.json      SHA-256 and size of every file above, the audit chains' heads and the
                       stored files the database references, all as of that snapshot
    manifest.sig       the manifest signed with the deployment's audit key (Ed25519)

docs/operations.md ("Backup and restore") is the procedure built on it.
"""
