"""The pure core: model, parsing, classification, policy, composing, digest.

Nothing in this package does IO or reads the clock: every function takes ``now`` (when it
needs one) and returns values. ``tests/core/test_core_is_pure.py`` checks the imports.
"""
