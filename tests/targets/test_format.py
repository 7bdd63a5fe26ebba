"""luigi.format: chaining, wrappers, gzip/bzip2 and the subprocess pipe wrappers."""

from __future__ import annotations

import bz2
import gc
import gzip
import io
import locale
import os
import subprocess
import warnings

import pytest

import luigi.format as fmt
from luigi.format import (
    BaseWrapper,
    Bzip2Format,
    ChainFormat,
    FileWrapper,
    Format,
    GzipFormat,
    InputPipeProcessWrapper,
    MixedUnicodeBytesFormat,
    MixedUnicodeBytesWrapper,
    NewlineFormat,
    NewlineWrapper,
    NopFormat,
    OutputPipeProcessWrapper,
    TextFormat,
    TextWrapper,
    WrappedFormat,
)
from luigi.local_target import LocalTarget, atomic_file


class ClosingBytesIO(io.BytesIO):
    """Keeps the value readable after close()."""

    def close(self):
        self.final = self.getvalue()
        super().close()


# --- module instances, tags, chaining ---------------------------------------------------------


def test_module_level_instances():
    assert isinstance(fmt.Text, TextFormat) and fmt.Text.args == () and fmt.Text.kwargs == {}
    assert isinstance(fmt.UTF8, TextFormat) and fmt.UTF8.kwargs == {"encoding": "utf8"}
    assert isinstance(fmt.Nop, NopFormat)
    assert isinstance(fmt.SysNewLine, NewlineFormat)
    assert isinstance(fmt.Gzip, GzipFormat) and fmt.Gzip.compression_level is None
    assert isinstance(fmt.Bzip2, Bzip2Format)
    assert isinstance(fmt.MixedUnicodeBytes, MixedUnicodeBytesFormat)
    assert fmt.get_default_format() is fmt.get_default_format() is fmt.Text


def test_type_tags():
    assert (fmt.Text.input, fmt.Text.output) == ("unicode", "bytes")
    assert (fmt.Gzip.input, fmt.Gzip.output) == ("bytes", "bytes")
    assert (fmt.Bzip2.input, fmt.Bzip2.output) == ("bytes", "bytes")
    assert (fmt.SysNewLine.input, fmt.SysNewLine.output) == ("bytes", "bytes")
    assert fmt.MixedUnicodeBytes.output == "bytes" and not hasattr(fmt.MixedUnicodeBytes, "input")
    assert not hasattr(fmt.Nop, "input") and not hasattr(fmt.Nop, "output")
    assert TextFormat.wrapper_cls is TextWrapper
    assert NewlineFormat.wrapper_cls is NewlineWrapper
    assert MixedUnicodeBytesFormat.wrapper_cls is MixedUnicodeBytesWrapper


def test_base_format_is_an_interface():
    with pytest.raises(NotImplementedError):
        Format.pipe_reader(io.BytesIO())
    with pytest.raises(NotImplementedError):
        Format.pipe_writer(io.BytesIO())


def test_rshift_builds_nested_chains():
    chain = fmt.Text >> fmt.SysNewLine >> fmt.Gzip
    assert isinstance(chain, ChainFormat)
    assert isinstance(chain.args[0], ChainFormat) and chain.args[0].args == (fmt.Text, fmt.SysNewLine)
    assert chain.args[1] is fmt.Gzip
    assert (chain.input, chain.output) == ("unicode", "bytes")
    nop_chain = fmt.Nop >> fmt.Nop
    assert not hasattr(nop_chain, "input") and not hasattr(nop_chain, "output")


def test_invalid_chain_message():
    with pytest.raises(TypeError) as info:
        fmt.Gzip >> fmt.Text
    assert str(info.value) == "The format chaining is not valid, TextFormat expect unicode but GzipFormat provide bytes"
    ChainFormat(fmt.Gzip, fmt.Text, check_consistency=False)  # explicitly unchecked
    fmt.Nop >> fmt.Text  # untagged formats pass through unchecked


def test_chain_applies_formats_in_order():
    calls = []

    class Tag(Format):
        def __init__(self, name):
            self.name = name

        def pipe_reader(self, pipe):
            calls.append(("r", self.name))
            return (self.name, pipe)

        def pipe_writer(self, pipe):
            calls.append(("w", self.name))
            return (self.name, pipe)

    chain = Tag("user") >> Tag("storage")
    assert chain.pipe_reader("raw") == ("user", ("storage", "raw"))
    assert chain.pipe_writer("raw") == ("user", ("storage", "raw"))
    assert calls == [("r", "storage"), ("r", "user"), ("w", "storage"), ("w", "user")]


def test_nop_and_wrapped_format():
    raw = io.BytesIO()
    assert fmt.Nop.pipe_reader(raw) is raw and fmt.Nop.pipe_writer(raw) is raw

    class Recorder:
        def __init__(self, stream, *args, **kwargs):
            self.stream, self.args, self.kwargs = stream, args, kwargs

    class Custom(WrappedFormat):
        wrapper_cls = Recorder

    f = Custom(1, key="v")
    for w in (f.pipe_reader(raw), f.pipe_writer(raw)):
        assert (w.stream, w.args, w.kwargs) == (raw, (1,), {"key": "v"})


# --- FileWrapper / BaseWrapper ----------------------------------------------------------------


def test_file_wrapper_proxies():
    inner = io.BytesIO(b"a\nb\n")
    w = FileWrapper(inner)
    assert w._subpipe is inner
    assert w.readline() == b"a\n"
    assert list(w) == [b"b\n"]
    with w as entered:
        assert entered is w
    assert inner.closed and w.closed


def test_base_wrapper_delegates_and_closes_after_iteration():
    inner = io.BytesIO(b"x\ny\n")
    w = BaseWrapper(inner)
    assert w._stream is inner and w.getvalue() == b"x\ny\n"
    assert list(w) == [b"x\n", b"y\n"]
    assert inner.closed
    with pytest.raises(AttributeError):
        BaseWrapper.__getattr__(w, "_stream")
    with BaseWrapper(io.BytesIO()) as entered:
        assert isinstance(entered, BaseWrapper)


def test_base_wrapper_as_mixin_passes_arguments_and_errors():
    class Mixed(BaseWrapper, io.BufferedReader):
        pass

    m = Mixed(io.BytesIO(b"data"), 16)
    assert m.read() == b"data"
    with pytest.raises(TypeError):  # Luigi swallowed this, leaving a broken object
        Mixed(io.BytesIO(b"data"), "not a size")


# --- NewlineWrapper ---------------------------------------------------------------------------


def test_newline_validation():
    with pytest.raises(ValueError) as info:
        NewlineWrapper(io.BytesIO(), newline="x")
    assert str(info.value) == "newline need to be one of {b'', b'\\r\\n', b'\\n', b'\\r', None}"
    assert NewlineWrapper(io.BytesIO(), newline="\r\n").newline == b"\r\n"
    assert NewlineWrapper(io.BytesIO()).newline is None


def test_newline_read_default_and_explicit():
    assert NewlineWrapper(io.BytesIO(b"a\r\nb\rc\n")).read() == b"a\nb\nc\n"
    assert NewlineWrapper(io.BytesIO(b"a\r\nb\rc\n"), newline="\r\n").read() == b"a\r\nb\r\nc\r\n"
    assert NewlineWrapper(io.BytesIO(b"a\r\nb"), newline="").read() == b"a\r\nb"


def test_newline_read_in_chunks_keeps_crlf_together():
    w = NewlineWrapper(io.BytesIO(b"ab\r\ncd\r"))
    chunks = []
    while True:
        chunk = w.read(3)
        if not chunk:
            break
        chunks.append(chunk)
    assert b"".join(chunks) == b"ab\ncd\n"


def test_newline_write():
    out = ClosingBytesIO()
    w = NewlineWrapper(out)
    w.write(b"a\r\nb\rc\n")
    w.writelines([b"d\n", b"e\r\n"])
    w.close()
    assert out.final == (b"a\nb\nc\nd\ne\n").replace(b"\n", os.linesep.encode())


def test_newline_write_crlf_split_across_chunks_and_trailing_cr():
    out = ClosingBytesIO()
    w = NewlineWrapper(out, newline="\n")
    w.write(b"a\r")
    w.write(b"\nb\r")
    w.close()
    assert out.final == b"a\nb\n"
    out = ClosingBytesIO()
    with NewlineWrapper(out, newline="\r\n") as w:
        w.write(b"x\r")
    assert out.final == b"x\r\n"


def test_newline_empty_string_means_untranslated_write():
    out = ClosingBytesIO()
    w = NewlineWrapper(out, newline="")
    w.write(b"a\r\nb\n")
    w.close()
    assert out.final == b"a\r\nb\n"  # Luigi stripped all line breaks here


def test_newline_iteration_translates():
    assert list(NewlineWrapper(io.BytesIO(b"a\r\nb\rc\nd"))) == [b"a\n", b"b\n", b"c\n", b"d"]
    assert list(NewlineWrapper(io.BytesIO(b"a\r\n"), newline="")) == [b"a\r\n"]


def test_sysnewline_on_local_target(tmp_path):
    t = LocalTarget(str(tmp_path / "n.txt"), format=fmt.SysNewLine)
    with t.open("w") as f:
        f.write(b"x\r\ny\n")
    assert (tmp_path / "n.txt").read_bytes() == ("x" + os.linesep + "y" + os.linesep).encode()
    with t.open("r") as f:
        assert f.read() == b"x\ny\n"


# --- MixedUnicodeBytesWrapper -----------------------------------------------------------------


def test_mixed_unicode_bytes():
    out = ClosingBytesIO()
    w = MixedUnicodeBytesWrapper(out, encoding="utf-16-le")
    assert w.encoding == "utf-16-le"
    with pytest.warns(UserWarning, match="^Writing unicode to byte stream$") as record:
        w.write("é")
        w.writelines(["a", b"b", "c"])
    assert len(record) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w.write(b"!")
    w.close()
    assert out.final == "é".encode("utf-16-le") + b"a\x00bc\x00!"
    assert MixedUnicodeBytesWrapper(io.BytesIO()).encoding == locale.getpreferredencoding()


# --- TextWrapper ------------------------------------------------------------------------------


def test_text_wrapper_read_write():
    out = ClosingBytesIO()
    w = TextWrapper(out, encoding="utf-8")
    assert w._stream is out and isinstance(w, io.TextIOWrapper)
    w.write("héllo\n")
    w.close()
    assert out.final == "héllo\n".replace("\n", os.linesep).encode()
    r = TextWrapper(io.BytesIO(b"a\r\nb"), encoding="utf-8")
    assert list(r) == ["a\n", "b"]


def test_text_wrapper_exit_leaves_commit_to_stream():
    exits = []

    class Inner(ClosingBytesIO):
        def __exit__(self, *args):
            exits.append(args[0])
            if args[0] is None:
                self.close()

    inner = Inner()
    with TextWrapper(inner, encoding="ascii") as w:
        w.write("ok")
    assert exits == [None] and inner.final == b"ok"
    inner = Inner()
    with pytest.raises(KeyError):
        with TextWrapper(inner, encoding="ascii") as w:
            w.write("no")
            raise KeyError
    assert exits[-1] is KeyError and not inner.closed


def test_text_wrapper_encoding_error_discards(tmp_path):
    t = LocalTarget(str(tmp_path / "a.txt"), format=TextFormat(encoding="ascii"))
    with pytest.raises(UnicodeEncodeError):
        with t.open("w") as f:
            f.write("não ascii")
    assert not t.exists()
    assert list(tmp_path.iterdir()) == []


def test_text_wrapper_init_errors_propagate():
    with pytest.raises(TypeError):
        TextWrapper(io.BytesIO(), encoding=123)


def test_text_format_arguments_on_local_target(tmp_path):
    t = LocalTarget(str(tmp_path / "latin"), format=TextFormat(encoding="latin-1", newline=""))
    with t.open("w") as f:
        f.write("ç\r\n")
    assert (tmp_path / "latin").read_bytes() == b"\xe7\r\n"
    with t.open("r") as f:
        assert f.read() == "ç\r\n"
    u = LocalTarget(str(tmp_path / "utf8"), format=fmt.UTF8)
    with u.open("w") as f:
        f.write("ç")
    assert (tmp_path / "utf8").read_bytes() == "ç".encode()


# --- gzip / bzip2 -----------------------------------------------------------------------------


@pytest.mark.parametrize("compression, module", [(fmt.Gzip, gzip), (fmt.Bzip2, bz2)])
def test_compressed_binary_round_trip_and_stdlib_interop(tmp_path, compression, module):
    payload = os.urandom(200_000) + b"tail"
    t = LocalTarget(str(tmp_path / "blob"), format=compression)
    with t.open("w") as f:
        assert isinstance(f, OutputPipeProcessWrapper)
        f.write(payload)
    assert module.decompress((tmp_path / "blob").read_bytes()) == payload
    with t.open("r") as f:
        assert isinstance(f, InputPipeProcessWrapper)
        assert f.read() == payload
    (tmp_path / "std").write_bytes(module.compress(b"from stdlib\nline 2\n"))
    with LocalTarget(str(tmp_path / "std"), format=compression).open("r") as f:
        assert list(f) == [b"from stdlib\n", b"line 2\n"]


@pytest.mark.parametrize("chain", [fmt.Text >> fmt.Gzip, fmt.UTF8 >> fmt.Bzip2])
def test_compressed_text_round_trip(tmp_path, chain):
    t = LocalTarget(str(tmp_path / "t"), format=chain)
    with t.open("w") as f:
        f.write("ünïcode line\n" * 1000)
    with t.open("r") as f:
        lines = list(f)
    assert lines == ["ünïcode line\n"] * 1000


def test_gzip_compression_level(tmp_path):
    level = GzipFormat(compression_level=9)
    assert level.compression_level == 9
    writer = level.pipe_writer(open(tmp_path / "x", "wb"))
    assert writer._command == ["gzip", "-9"]
    writer.close()
    data = b"a" * 100_000
    for name, f in (("fast", GzipFormat(1)), ("best", GzipFormat(9))):
        with LocalTarget(str(tmp_path / name), format=f).open("w") as out:
            out.write(data)
    assert gzip.decompress((tmp_path / "best").read_bytes()) == data
    assert os.path.getsize(tmp_path / "best") <= os.path.getsize(tmp_path / "fast")


def test_corrupt_gzip_read_raises_runtime_error(tmp_path):
    (tmp_path / "bad.gz").write_bytes(b"this is not gzip data")
    t = LocalTarget(str(tmp_path / "bad.gz"), format=fmt.Gzip)
    with pytest.raises(
        RuntimeError, match=r"^Error reading from pipe\. Subcommand exited with non-zero exit status 1\.$"
    ):
        with t.open("r") as f:
            f.read()
    f = t.open("r")
    with pytest.raises(RuntimeError, match="non-zero exit status"):
        list(f)


def test_gzip_writer_on_mock_like_buffer():
    out = ClosingBytesIO()
    with fmt.Gzip.pipe_writer(out) as w:  # no fileno: fed through a pump thread
        w.write(b"in memory" * 1000)
    assert gzip.decompress(out.final) == b"in memory" * 1000


# --- InputPipeProcessWrapper ------------------------------------------------------------------


def test_input_pipe_reads_command_output_from_file(tmp_path):
    (tmp_path / "in").write_bytes(b"one\ntwo\n")
    with open(tmp_path / "in", "rb") as src:
        w = InputPipeProcessWrapper(["cat"], src)
        assert w._original_input is True and w._command == ["cat"]
        assert (w.readable(), w.writable(), w.seekable()) == (True, False, False)
        assert list(w) == [b"one\n", b"two\n"]
    assert w._process.returncode == 0


def test_input_pipe_without_fileno_is_streamed(tmp_path):
    payload = os.urandom(1_000_000)
    source = io.BytesIO(payload)
    w = InputPipeProcessWrapper(["cat"], source)
    assert w._original_input is False
    assert w.read() == payload
    w.close()
    assert source.closed
    assert [p for p in os.listdir(tmp_path) if p.startswith("luigi-process_tmp")] == []


def test_input_pipe_accepts_existing_popen():
    proc = subprocess.Popen(["echo", "hi"], stdout=subprocess.PIPE)
    w = InputPipeProcessWrapper(proc)
    assert w._process is proc
    assert w.read() == b"hi\n"
    w.close()


def test_input_pipe_failing_command_raises_on_close_and_exit():
    w = InputPipeProcessWrapper(["sh", "-c", "echo partial; exit 3"])
    assert w.read() == b"partial\n"
    with pytest.raises(RuntimeError) as info:
        w.close()
    assert str(info.value) == "Error reading from pipe. Subcommand exited with non-zero exit status 3."
    w.close()  # finishing happens once
    with pytest.raises(RuntimeError, match="status 4"):
        with InputPipeProcessWrapper(["sh", "-c", "exit 4"]) as w:
            w.read()


def test_input_pipe_error_suppressed_when_with_body_fails():
    with pytest.raises(KeyError):
        with InputPipeProcessWrapper(["sh", "-c", "exit 5"]):
            raise KeyError("body")


def test_input_pipe_stopping_early_is_not_an_error():
    w = InputPipeProcessWrapper(["sh", "-c", "yes | head -c 10000000"])
    assert w.read(10) == b"y\ny\ny\ny\ny\n"
    w.close()  # the child gets SIGPIPE: accepted
    assert w._process.returncode in (0, 141, -13)


def test_input_pipe_finaliser_is_quiet(capfd):
    w = InputPipeProcessWrapper(["sh", "-c", "exit 6"])
    w.read()
    del w
    gc.collect()
    assert "Exception ignored" not in capfd.readouterr().err


def test_input_pipe_missing_command():
    with pytest.raises(FileNotFoundError):
        InputPipeProcessWrapper(["definitely-not-a-command-xyz"], io.BytesIO(b"data" * 100_000))


def test_input_pipe_custom_create_subprocess():
    class Upper(InputPipeProcessWrapper):
        def create_subprocess(self, command):
            return subprocess.Popen(command, stdin=self._input_pipe, stdout=subprocess.PIPE)

    w = Upper(["tr", "a-z", "A-Z"], io.BytesIO(b"shout"))
    assert w.read() == b"SHOUT"
    w.close()


# --- OutputPipeProcessWrapper -----------------------------------------------------------------


def test_output_pipe_writes_through_command(tmp_path):
    sink = open(tmp_path / "out", "wb")
    w = OutputPipeProcessWrapper(["cat"], sink)
    assert OutputPipeProcessWrapper.WRITES_BEFORE_FLUSH == 10000
    assert (w.readable(), w.writable(), w.seekable()) == (False, True, False)
    assert w.closed is False and w._flushcount == 0
    w.write(b"hello ")
    w.writeLine(b"bytes line")
    w.writeLine("text line")
    assert w._flushcount == 3
    w.close()
    assert w.closed is True and sink.closed
    assert (tmp_path / "out").read_bytes() == b"hello bytes line\ntext line\n"
    with pytest.raises(AssertionError):
        OutputPipeProcessWrapper(["cat"], open(tmp_path / "o2", "wb")).writeLine("two\nlines")


def test_output_pipe_flushes_every_n_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(OutputPipeProcessWrapper, "WRITES_BEFORE_FLUSH", 3)
    w = OutputPipeProcessWrapper(["cat"], open(tmp_path / "o", "wb"))
    for _ in range(3):
        w.write(b"x")
    assert w._flushcount == 0
    w.close()
    assert (tmp_path / "o").read_bytes() == b"xxx"


def test_output_pipe_failing_command_does_not_publish(tmp_path):
    t = LocalTarget(str(tmp_path / "fail.txt"))
    af = atomic_file(t.path)
    w = OutputPipeProcessWrapper(["sh", "-c", "cat; exit 2"], af)
    w.write(b"data")
    with pytest.raises(RuntimeError) as info:
        w.close()
    assert str(info.value) == "Error when executing command ['sh', '-c', 'cat; exit 2']"
    assert not t.exists()
    assert list(tmp_path.iterdir()) == []


def test_output_pipe_dead_command_reports_runtime_error(tmp_path):
    w = OutputPipeProcessWrapper(["false"], open(tmp_path / "o", "wb"))
    w._process.wait()
    with pytest.raises(RuntimeError, match=r"^Error when executing command \['false'\]$"):
        w.write(b"x" * 1_000_000)  # Luigi: BrokenPipeError
    with pytest.raises(RuntimeError, match="false"):
        w.close()


def test_output_pipe_exception_in_with_aborts(tmp_path):
    t = LocalTarget(str(tmp_path / "g.gz"), format=fmt.Gzip)
    with pytest.raises(ZeroDivisionError):
        with t.open("w") as f:
            f.write(b"partial")
            raise ZeroDivisionError
    assert not t.exists()
    assert list(tmp_path.iterdir()) == []


def test_output_pipe_missing_command(tmp_path):
    t = LocalTarget(str(tmp_path / "x"), format=NoSuchCompressor())
    with pytest.raises(FileNotFoundError):
        t.open("w")
    assert list(tmp_path.iterdir()) == []


class NoSuchCompressor(Format):
    def pipe_writer(self, output_pipe):
        return OutputPipeProcessWrapper(["definitely-not-a-command-xyz"], output_pipe)

    def pipe_reader(self, input_pipe):
        return InputPipeProcessWrapper(["definitely-not-a-command-xyz"], input_pipe)


def test_output_pipe_unclosed_is_aborted_at_gc(tmp_path):
    t = LocalTarget(str(tmp_path / "u.gz"), format=fmt.Gzip)
    f = t.open("w")
    f.write(b"never closed")
    proc = f._process
    del f
    gc.collect()
    assert proc.returncode is not None  # reaped, no zombie
    assert not t.exists()


def test_input_pipe_reports_a_failing_fd_less_source():
    class Failing(io.RawIOBase):
        def readable(self):
            return True

        def fileno(self):
            raise io.UnsupportedOperation

        def read(self, n=-1):
            raise OSError("source broke")

    w = InputPipeProcessWrapper(["cat"], Failing())
    assert w.read() == b""
    with pytest.raises(OSError, match="source broke"):
        w.close()
