"""Celery side of the sweeper: thin tasks, the stage functions they call, and beat schedule sync."""
