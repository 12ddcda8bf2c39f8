"""User-facing errors: one line, exit code 2, no traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user (file, kernel name, option value). Printed as one line; exit 2."""

    exit_code = 2


class InputWarning(UserWarning):
    """Input swimsim accepts with an assumption the user should know about. The command line prints
    it as one line (``swimsim: warning: ...``)."""
