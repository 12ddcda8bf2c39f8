"""swimsim engine side: task-graph IR, discrete-event engine, run records, command line."""
