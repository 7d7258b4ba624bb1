"""Argo CD as a source: applications and their sync history as deployments."""
