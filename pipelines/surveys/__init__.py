"""Developer surveys: the instrument and the loader for form-tool CSV exports."""

from pipelines.surveys.loader import RAW_TABLES, SurveyFileError, load_inbox, load_survey_file

__all__ = ["RAW_TABLES", "SurveyFileError", "load_inbox", "load_survey_file"]
