"""GitLab (gitlab.com and self-managed) as a source."""
