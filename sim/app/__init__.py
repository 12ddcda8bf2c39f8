"""The application: the ``swimsim`` command line, calibration, fidelity against measurements.

``cli`` (entry point, lazy command table) and ``commands/`` (one module per command or command
family) parse arguments and print; the work lives in the sibling modules: ``measurements`` and
``fidelity`` (the measured comparison), ``variant_runs`` and ``pool`` (seeded runs in worker
processes), ``calibration``, ``calibrated_preset`` and ``band`` (the fit and what it leaves open),
``explain`` (why a function's times are what they are), ``onthespot`` (kernel specs simulated on
the spot) and ``progress`` (terminal progress bars). JSON inputs are read through
:mod:`sim.util.jsonfile`.
"""
