"""Facts shared by checks: parsers of the target's configuration, each computed once per run via ``Context.memo``."""
