"""Version order per ecosystem: one comparator per scheme (dpkg, pep440, semver), listed in one table."""
