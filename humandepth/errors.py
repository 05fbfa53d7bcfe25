"""The error users see: one line naming the thing, never a traceback.  Imported by every layer; imports nothing.

Library code raises :class:`UserError` (or ``ValueError``, ``FileNotFoundError``, ``FileExistsError``,
``KeyError``, ``OSError``) with a message that names the option, file or sample at fault; the command line
(:func:`humandepth.cli.main`) prints it as ``humandepth: error: MESSAGE`` and exits with status 2.
"""

from __future__ import annotations


class UserError(Exception):
    """An error caused by input the user can fix; printed as one line, exit status 2."""


# what the command line prints without a traceback (anything else is a bug and keeps its traceback)
USER_ERRORS: tuple[type[Exception], ...] = (UserError, ValueError, FileNotFoundError, FileExistsError, KeyError,
                                            OSError)


def message(e: BaseException) -> str:
    """The text of a user error.  An ``OSError`` raised by the system itself (``[Errno 21] Is a directory: 'x'``)
    reads ``x: is a directory``; a ``KeyError`` shows its message without quotes."""
    if isinstance(e, KeyError) and e.args:
        return str(e.args[0])
    if isinstance(e, OSError) and e.strerror and e.filename is not None:
        names = str(e.filename) + (f" -> {e.filename2}" if e.filename2 is not None else "")
        return f"{names}: {e.strerror[:1].lower()}{e.strerror[1:]}"
    return str(e) or type(e).__name__


def is_interrupt(e: BaseException) -> bool:
    """Whether ``e`` is Ctrl-C in disguise: a ``KeyboardInterrupt`` that arrived inside a ctypes call (OpenGL
    through PyOpenGL, for one) comes out as ``ctypes.ArgumentError: argument N: KeyboardInterrupt``."""
    return type(e).__name__ == "ArgumentError" and "KeyboardInterrupt" in str(e)
