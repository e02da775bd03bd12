"""rampart: self-hosted compute protection for Linux fleets, containers and serverless bundles."""

__version__ = "0.1.0"
