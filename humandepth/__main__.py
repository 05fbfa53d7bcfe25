"""``python -m humandepth`` is the ``humandepth`` command."""

from humandepth.cli import main

raise SystemExit(main())
