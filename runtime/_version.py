"""The package version, in one place: pyproject.toml reads it from here (a release bumps it,
then tags the commit `v<version>`)."""

__version__ = "0.1.0"
