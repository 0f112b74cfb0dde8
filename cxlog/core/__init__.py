"""The product's vocabulary and rules that need nothing else: errors, the
visit model and its constants, money, typed text shown safely, roles.

May import: the standard library and Babel only; no other wing.
"""
