"""PagerDuty REST v2: incidents in time windows."""
