"""The application: the ``swimsim`` command line, calibration, fidelity against measurements."""
