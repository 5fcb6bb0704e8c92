"""read_json_file: the JSON object, or an error naming the file, the line and the missing keys."""
import json

import pytest

from mmibs.utils import read_json_file


class DomainError(ValueError):
    pass


def test_reads_the_object(tmp_path):
    path = tmp_path / 'a.json'
    path.write_text(json.dumps(dict(images=[], annotations=[1])))
    assert read_json_file(str(path), DomainError, required=('images', 'annotations')) == dict(
        images=[], annotations=[1])


def test_missing_file_names_it_and_the_hint(tmp_path):
    path = tmp_path / 'nope.json'
    with pytest.raises(FileNotFoundError, match=r"GT file '.*nope\.json' not found; run X"):
        read_json_file(str(path), DomainError, what='GT file', hint='; run X')


def test_malformed_json_names_line_and_column(tmp_path):
    path = tmp_path / 'bad.json'
    path.write_text('{\n  "images": [,]\n}')
    with pytest.raises(DomainError, match=r'bad\.json: malformed JSON at line 2, column 14'):
        read_json_file(str(path), DomainError)


@pytest.mark.parametrize('content', [dict(images=[]), [1, 2]])
def test_missing_keys_are_listed(tmp_path, content):
    path = tmp_path / 'keys.json'
    path.write_text(json.dumps(content))
    missing = "['annotations']" if isinstance(content, dict) else "['images', 'annotations']"
    with pytest.raises(DomainError, match=r'keys\.json: annotation file without the top-level '
                                          r'keys ' + missing.replace('[', r'\[')):
        read_json_file(str(path), DomainError, what='annotation file',
                       required=('images', 'annotations'))
