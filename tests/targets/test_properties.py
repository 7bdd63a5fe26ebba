"""Property-based checks: chunking never changes newline translation; the indexed mock store
agrees with a plain-dict model of component-aware path semantics."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from luigi.format import NewlineWrapper
from luigi.mock import MockFileSystem, SharedMockStore

newline_bytes = st.lists(st.sampled_from([b"a", b"\r", b"\n", b"\r\n", b"xyz"]), max_size=30).map(b"".join)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def reference(data: bytes, newline: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", newline)


class Sink(io.BytesIO):
    def close(self):
        self.final = self.getvalue()
        super().close()


@given(newline_bytes, st.lists(st.integers(min_value=0), max_size=8), st.sampled_from(["\n", "\r\n", "\r"]))
def test_write_translation_is_independent_of_chunking(data, cuts, newline):
    sink = Sink()
    w = NewlineWrapper(sink, newline=newline)
    for chunk in split(data, cuts):
        w.write(chunk)
    w.close()
    assert sink.final == reference(data, newline.encode())


@given(newline_bytes, st.integers(min_value=1, max_value=5), st.sampled_from([None, "\n", "\r\n"]))
def test_read_translation_is_independent_of_read_size(data, size, newline):
    r = NewlineWrapper(io.BytesIO(data), newline=newline)
    out = b""
    while chunk := r.read(size):
        out += chunk
    assert out == reference(data, (newline or "\n").encode())


path_names = st.lists(st.sampled_from(["a", "ab", "a/b", "a/b/c", "a/bc", "b", "a/", "ab/c", "é/x"]), max_size=8)


@settings(max_examples=60, deadline=None)
@given(path_names, st.sampled_from(["", "a", "a/", "a/b", "ab", "b", "é", "z"]))
def test_indexed_store_matches_dict_model(keys, query):
    saved = MockFileSystem._data
    try:
        results = []
        for store in (None, {}):  # None: a fresh indexed SQLite store; {}: the generic path
            MockFileSystem._data = store
            fs = MockFileSystem()
            for k in keys:
                fs.get_all_data()[k] = k.encode()
            listed = sorted(fs.listdir(query))
            isdir = fs.isdir(query)
            fs.remove(query)
            results.append((listed, isdir, sorted(fs.get_all_data().keys())))
            if store is None:
                assert isinstance(MockFileSystem._data, SharedMockStore)
        assert results[0] == results[1]
        listed, isdir, remaining = results[0]
        assert all(k == query or k.startswith(query.rstrip("/") + "/") or not query for k in listed)
        assert set(remaining).isdisjoint(listed)
    finally:
        MockFileSystem._data = saved
