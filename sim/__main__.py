import sys

from sim.app.cli import main

sys.exit(main())
