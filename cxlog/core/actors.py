"""Who did it, as the audit trail writes it: "associate:<id>" for a person on
a shift, a role's name ("manager", "owner") for a signed-in role, "system" for
cxlog itself. One place writes and reads the associate's form."""

from __future__ import annotations

ASSOCIATE = "associate"


def associate(associate_id: int) -> str:
    """The actor text of an associate."""
    return f"{ASSOCIATE}:{associate_id}"


def associate_id(actor: str) -> int | None:
    """The associate behind an actor text, or None for a role or the system."""
    kind, _, ident = actor.partition(":")
    return int(ident) if kind == ASSOCIATE and ident.isdigit() else None


def is_associate(actor: str) -> bool:
    return associate_id(actor) is not None
