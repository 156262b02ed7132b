import sys

from photofinder.cli import main

sys.exit(main())
