"""Reading a JSON annotation or prediction file with errors that name the file."""
import json
from typing import Optional, Sequence, Type

from mmengine.fileio import get_local_path


def read_json_file(path: str,
                   error: Type[Exception],
                   what: str = 'JSON file',
                   required: Sequence[str] = (),
                   hint: str = '',
                   backend_args: Optional[dict] = None) -> dict:
    """The JSON object in ``path`` (local, or any mmengine file backend).

    Args:
        path: The file.
        error: Exception class raised for malformed JSON and missing keys (the caller's domain
            error, e.g. ``PanopticAnnotationError``).
        what: What the file is, for the not-found message ("annotation file", "GT file").
        required: Top-level keys the object must have.
        hint: Appended to the not-found message (what to do about it).
        backend_args: mmengine file-backend arguments.

    Raises:
        FileNotFoundError: ``"{what} '{path}' not found{hint}"``.
        error: ``"{path}: malformed JSON at line L, column C: ..."``, or ``"{path}: {what}
            without the top-level keys [...]"``.
    """
    try:
        with get_local_path(path, backend_args=backend_args) as local_path:
            with open(local_path, encoding='utf-8') as f:
                data = json.load(f)
    except FileNotFoundError as e:
        raise FileNotFoundError(f'{what} {path!r} not found{hint}') from e
    except json.JSONDecodeError as e:
        raise error(f'{path}: malformed JSON at line {e.lineno}, column {e.colno}: '
                    f'{e.msg}') from e
    missing = [key for key in required if not isinstance(data, dict) or key not in data]
    if missing:
        raise error(f'{path}: {what} without the top-level keys {missing}')
    return data
