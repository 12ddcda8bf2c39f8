"""swimsim sub-commands (each module: register(subparsers))."""
