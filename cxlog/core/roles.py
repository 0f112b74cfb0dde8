"""Who may do what: the three roles and their order."""

from __future__ import annotations

ASSOCIATE, MANAGER, OWNER = "associate", "manager", "owner"
ROLES: tuple[str, ...] = (MANAGER, OWNER)  # the roles that sign in with a password
_RANK = {None: 0, ASSOCIATE: 0, MANAGER: 1, OWNER: 2}


def allows(role: str | None, needed: str) -> bool:
    """Owner may do everything a manager may; a manager what an associate may."""
    return _RANK.get(role, 0) >= _RANK[needed]
