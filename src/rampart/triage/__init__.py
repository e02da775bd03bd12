"""Triage: what a user chose to see of the findings (ignore file, severity and fix filters, exit policy)."""
