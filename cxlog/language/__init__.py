"""The store's language (issue #29): cxlog's words in English, French, German
and Spanish (gettext catalogs handled with Babel), and dates, numbers,
percentages and money written the way the chosen locale writes them.

The lowest floor: every wing may import it, it imports no other wing.
"""
