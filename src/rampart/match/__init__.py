"""Matching: packages x advisories -> findings, each carrying the evidence of how it matched."""
