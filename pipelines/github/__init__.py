"""GitHub and GitHub Actions: REST client and incremental repository sync."""
