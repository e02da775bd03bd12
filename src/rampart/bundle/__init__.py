"""Serverless function bundles (zip files such as AWS Lambda packages and layers) as read-only Targets."""

from rampart.bundle.index import BundleError, Limits
from rampart.bundle.target import EntryError, ZipTarget, open_bundle

__all__ = ["BundleError", "EntryError", "Limits", "ZipTarget", "open_bundle"]
