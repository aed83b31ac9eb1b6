"""Shared ground of the converter and the runtime (internal, not public API): atomic file
writing, install hints for missing parts, keeping native libraries quiet, counted nouns."""
