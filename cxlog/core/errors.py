"""Named errors. Each message is a sentence a store manager understands; pages
show it with ``st.error`` and the CLI prints it, neither adds a stack trace."""


class CxlogError(Exception):
    """Base of every error cxlog raises on purpose."""


class ValidationError(CxlogError, ValueError):
    """A value a person entered (or a tap sent) is not allowed."""


class NotFoundError(CxlogError, LookupError):
    """The visit, associate or list entry asked for does not exist."""


class StorageError(CxlogError):
    """The database could not be written or read (busy, read-only, disk full).

    Nothing was saved by the failed call; what was stored before is intact.
    """


class ConflictError(ValidationError):
    """A tap that lost to another device's change: the visit was closed, voided
    or reopened elsewhere first. The message says what happened."""


class ShiftError(CxlogError):
    """No valid shift on this device: never started, ended, expired, a PIN
    change or a deactivation. The message says which and what to do."""


class NotAllowedError(CxlogError):
    """A change this person may not make (an associate's tap on a visit of an
    earlier day, say). The message says who can make it instead."""
