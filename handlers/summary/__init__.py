"""The coordinators' daily summary (`jobs.py`) and figures on demand (`stats.py`)."""
