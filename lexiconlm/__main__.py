import sys

from lexiconlm.cli.main import main

sys.exit(main())
