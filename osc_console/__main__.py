"""``python -m osc_console`` runs the same command as ``osc-console``."""

from osc_console.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
