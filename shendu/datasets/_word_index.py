"""The word-index JSON files of imdb and reuters: {word: rank}, found and checked like every dataset file."""

from __future__ import annotations

import json

from shendu.datasets._fetch import READ_ERRORS, InvalidDatasetFileError, Mirror, corrupted, locate


def load_word_index(path: str, mirrors: tuple[Mirror, ...], dataset: str) -> dict[str, int]:
    """The {word: index} dict of a word-index JSON file, refusing anything that is not a str -> int mapping."""
    located = locate(path, mirrors, dataset)
    try:
        with open(located.path, encoding="utf-8") as f:
            index = json.load(f)
    except READ_ERRORS as error:
        raise corrupted(located.path, "JSON file", error) from error
    if not isinstance(index, dict) or not all(isinstance(k, str) and type(v) is int for k, v in index.items()):
        raise InvalidDatasetFileError(f"{located.path}: expected a JSON object mapping words to integer indices")
    return index
