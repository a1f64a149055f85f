"""The scopes a partner client may hold (no Django imports: the settings read it)."""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "consortia:read": "Read consortia, members, roles, plans and the organisation directory",
    "consortia:write": "Change consortia, members, roles and plans",
    "governance:read": "Read meetings, motions, votes and proxies",
    "governance:write": "Open motions, vote and manage proxies and meetings",
    "agreements:read": "Read agreements, versions, clauses, data sets and IP assets",
    "agreements:write": "Draft, approve and sign agreements; register data sets and IP assets",
    "compute:read": "Read providers, sites, pools, allocations, reservations and loans",
    "compute:write": "Request, decide and lend GPU capacity",
    "usage:write": "Report GPU usage",
    "compliance:read": "Read compliance decisions, findings, jobs and data-set placements",
    "compliance:write": "Record jobs and data-set placements; handle findings",
    "compliance:decide": "Ask for residency compliance decisions",
    "audit:read": "Read and export the audit trail",
    "webhooks:read": "Read webhook endpoints and their deliveries",
    "webhooks:write": "Manage webhook endpoints",
}
