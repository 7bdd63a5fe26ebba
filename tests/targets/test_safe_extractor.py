"""luigi.safe_extractor: tar extraction that refuses path traversal."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from luigi.safe_extractor import SafeExtractor

TRAVERSAL = "^Attempted Path Traversal in Tar File$"


def make_tar(path, members, mode="w"):
    """members: (name, bytes) for files, (name, ('sym'|'hard', target)) for links."""
    with tarfile.open(path, mode) as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            if isinstance(content, tuple):
                kind, target = content
                info.type = tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE
                info.linkname = target
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return str(path)


def test_extracts_regular_archive_with_compression_detection(tmp_path):
    archive = make_tar(tmp_path / "code.tar.gz", [("pkg/__init__.py", b"x = 1\n"), ("pkg/sub/mod.py", b"y")], "w:gz")
    dest = tmp_path / "out"
    dest.mkdir()
    SafeExtractor(str(dest)).safe_extract(archive)
    assert (dest / "pkg" / "__init__.py").read_bytes() == b"x = 1\n"
    assert (dest / "pkg" / "sub" / "mod.py").read_bytes() == b"y"


def test_default_path_is_cwd(tmp_path, monkeypatch):
    archive = make_tar(tmp_path / "a.tar", [("f.txt", b"cwd")])
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    extractor = SafeExtractor()
    assert extractor.path == "."
    extractor.safe_extract(archive)
    assert (work / "f.txt").read_bytes() == b"cwd"


def test_members_subset_and_internal_links(tmp_path):
    archive = make_tar(
        tmp_path / "a.tar",
        [("a.txt", b"a"), ("b.txt", b"b"), ("dir/link", ("sym", "../a.txt")), ("hard", ("hard", "a.txt"))],
    )
    dest = tmp_path / "out"
    dest.mkdir()
    with tarfile.open(archive) as tar:
        subset = [tar.getmember("b.txt")]
    SafeExtractor(str(dest)).safe_extract(archive, members=subset)
    assert sorted(os.listdir(dest)) == ["b.txt"]
    SafeExtractor(str(dest)).safe_extract(archive, numeric_owner=True)
    assert (dest / "dir" / "link").read_bytes() == b"a" and (dest / "hard").read_bytes() == b"a"


@pytest.mark.parametrize(
    "members",
    [
        [("../escape.txt", b"evil")],
        [("ok/../../escape.txt", b"evil")],
        [("/abs/escape.txt", b"evil")],
        [("link", ("sym", "/etc")), ("link/passwd", b"evil")],  # symlink then write through it
        [("link", ("sym", "../../outside"))],
        [("hard", ("hard", "../outside"))],
    ],
)
def test_rejects_traversal_before_extracting_anything(tmp_path, members):
    archive = make_tar(tmp_path / "evil.tar", [("innocent.txt", b"first")] + members)
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(RuntimeError, match=TRAVERSAL):
        SafeExtractor(str(dest)).safe_extract(archive)
    assert os.listdir(dest) == []
    assert not (tmp_path / "escape.txt").exists()


def test_rejects_traversal_even_outside_selected_members(tmp_path):
    archive = make_tar(tmp_path / "evil.tar", [("fine", b"f"), ("../bad", b"b")])
    dest = tmp_path / "out"
    dest.mkdir()
    with tarfile.open(archive) as tar:
        only_fine = [tar.getmember("fine")]
    with pytest.raises(RuntimeError, match=TRAVERSAL):
        SafeExtractor(str(dest)).safe_extract(archive, members=only_fine)


def test_sibling_directory_with_same_prefix_is_outside(tmp_path):
    dest = tmp_path / "out"
    dest.mkdir()
    archive = make_tar(tmp_path / "evil.tar", [("../out-evil/x", b"evil")])
    with pytest.raises(RuntimeError, match=TRAVERSAL):
        SafeExtractor(str(dest)).safe_extract(archive)
    assert not (tmp_path / "out-evil").exists()


def test_is_within_directory_is_component_aware(tmp_path):
    within = SafeExtractor._is_within_directory
    assert within("/data/out", "/data/out")
    assert within("/data/out", "/data/out/x/y")
    assert within("/data/out", "/data/out/a/../b")
    assert not within("/data/out", "/data/out-evil/x")  # Luigi: accepted (string prefix)
    assert not within("/data/out", "/data")
    assert within("/", "/anything")
