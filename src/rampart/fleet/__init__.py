"""The fleet side of the server: inventory documents, ingest, fleet-wide re-matching and finding queries."""
