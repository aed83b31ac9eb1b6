"""Files in and out: images (checks, colour, rotation), command-line inputs (files, folders,
globs, video sources), video files (reading, truncation, writing) and result exports (CSV,
JSON Lines)."""
