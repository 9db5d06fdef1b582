#!/usr/bin/env python
"""Django's command-line utility for the TGE News Sweeper."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tgesweeper.settings")
    from django.core.management import execute_from_command_line  # noqa: PLC0415  (after the settings module is set)

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
