"""Measuring: per-step timing split by model, and multi-person clips with identities known by
construction (`composed_clips`)."""
