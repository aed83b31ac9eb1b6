"""The `blazepose` command line: detect, video, providers, bench (entry point `main`)."""
