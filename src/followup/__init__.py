"""interview-followup: follow-up drafts for job seekers, placed at the right moment."""

__version__ = "0.1.0"
