"""Jenkins (jobs, folders, multibranch pipelines and their builds) as a source."""
