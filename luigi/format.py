"""Formats: layers between a target's raw byte stream and what user code reads or writes.

``fmt.pipe_reader(raw)`` returns what the user reads from; ``fmt.pipe_writer(raw)`` what the
user writes to. ``a >> b`` chains formats: the user talks to ``a``, ``a`` feeds ``b`` and ``b``
touches storage (``Text >> Gzip``: write ``str``, store gzip). Each wrapper leaves the decision
to commit or discard to the innermost stream (e.g. ``atomic_file``): a normal ``with`` exit or
``close()`` commits, an exception discards.

Gzip/Bzip2 pipe the data through the ``gzip``/``gunzip``/``bzip2``/``bzcat`` programs, so
streams are processed concurrently with the user's code and the observable behaviour (errors,
exit statuses) is Luigi's. Streams without a file descriptor (in-memory buffers) are fed to /
drained from those processes by a pump thread instead of being copied to disk first.
"""

from __future__ import annotations

import io
import locale
import os
import subprocess
import threading
import warnings
from typing import Any, Callable, Iterator

__all__ = [
    "Format",
    "ChainFormat",
    "NopFormat",
    "WrappedFormat",
    "TextFormat",
    "MixedUnicodeBytesFormat",
    "NewlineFormat",
    "GzipFormat",
    "Bzip2Format",
    "FileWrapper",
    "BaseWrapper",
    "NewlineWrapper",
    "MixedUnicodeBytesWrapper",
    "TextWrapper",
    "InputPipeProcessWrapper",
    "OutputPipeProcessWrapper",
    "Text",
    "UTF8",
    "Nop",
    "SysNewLine",
    "Gzip",
    "Bzip2",
    "MixedUnicodeBytes",
    "get_default_format",
]

# Exit statuses of a reader subprocess that mean "stopped because we stopped reading".
_SIGPIPE_STATUSES = (0, 141, -13)


def _has_fileno(stream: Any) -> bool:
    """True if ``stream`` exposes a real OS file descriptor (usable as a child's stdio)."""
    try:
        stream.fileno()
    except (AttributeError, io.UnsupportedOperation):
        return False
    return True


def _pump(read: Callable[[int], bytes], write: Callable[[bytes], Any]) -> None:
    """Copy chunks from ``read`` to ``write`` until end of stream."""
    while True:
        chunk = read(io.DEFAULT_BUFFER_SIZE)
        if not chunk:
            return
        write(chunk)


class FileWrapper:
    """Thin proxy around a file object, so behaviour can be attached to it."""

    def __init__(self, file_object: Any) -> None:
        self._subpipe = file_object

    def __getattr__(self, name: str) -> Any:
        if name == "_subpipe":
            raise AttributeError(name)
        return getattr(self._subpipe, name)

    def __enter__(self, *args: Any) -> FileWrapper:
        return self

    def __exit__(self, *args: Any) -> Any:
        return self._subpipe.__exit__(*args)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._subpipe)


class InputPipeProcessWrapper:
    """A readable byte stream: the stdout of a command fed from ``input_pipe``.

    Closing (or leaving a ``with`` normally, or exhausting iteration) waits for the command and
    raises ``RuntimeError`` if it failed; stopping early is fine (SIGPIPE is not a failure).
    Unlike Luigi, finishing happens once: the finaliser does not re-run it and re-raise.
    """

    def __init__(self, command: Any, input_pipe: Any = None) -> None:
        self._command = command
        self._input_pipe = input_pipe
        self._original_input = True
        self._tmp_file = None  # Luigi copied fd-less input to this file; we stream it instead
        self._feeder: threading.Thread | None = None
        self._feed_error: BaseException | None = None
        self._finished = False
        source = None
        if input_pipe is not None and not _has_fileno(input_pipe):
            self._original_input = False
            source = input_pipe
            read_fd, write_fd = os.pipe()
            self._input_pipe = FileWrapper(open(read_fd, "rb", buffering=0))
            sink = open(write_fd, "wb")
        try:
            self._process = command if isinstance(command, subprocess.Popen) else self.create_subprocess(command)
        except BaseException:
            if source is not None:
                sink.close()
                self._input_pipe.close()
            raise
        self._process._selfref = self  # keeps us alive while only e.g. ``open().read`` is held
        if source is not None:
            self._input_pipe.close()  # the child holds its own copy; ours would block EPIPE
            self._feeder = threading.Thread(target=self._feed, args=(source, sink), daemon=True)
            self._feeder.start()

    def _feed(self, source: Any, sink: Any) -> None:
        """Pump thread: copy an fd-less input into the child's stdin pipe."""
        try:
            with sink:
                _pump(source.read, sink.write)
        except BrokenPipeError:
            pass  # the child stopped reading; its exit status tells whether that is an error
        except BaseException as err:  # the child saw a truncated input: reported by _finish
            self._feed_error = err
        finally:
            source.close()

    def create_subprocess(self, command: Any) -> subprocess.Popen:
        """Start ``command`` reading from ``self._input_pipe`` with stdout piped to us.

        SIGPIPE is reset to its default in the child by ``restore_signals`` (no ``preexec_fn``,
        which would force a slow, thread-unsafe fork path).
        """
        return subprocess.Popen(command, stdin=self._input_pipe, stdout=subprocess.PIPE, close_fds=True)

    def _finish(self) -> None:
        """Stop reading, reap the command and raise ``RuntimeError`` if it failed (once)."""
        if self._finished:
            return
        if self._process.stdout is not None:
            self._process.stdout.close()  # first, so a still-writing child gets SIGPIPE
        if self._input_pipe is not None:
            self._input_pipe.close()
        self._process.wait()
        if self._feeder is not None:
            self._feeder.join()
        self._finished = True
        if self._feed_error is not None:
            raise self._feed_error
        returncode = self._process.returncode
        if returncode not in _SIGPIPE_STATUSES:
            raise RuntimeError(f"Error reading from pipe. Subcommand exited with non-zero exit status {returncode}.")

    def close(self) -> None:
        self._finish()

    def _abort(self) -> None:
        """Finish while another exception is already propagating: only Ctrl-C may escape."""
        try:
            self._finish()
        except KeyboardInterrupt:
            raise
        except BaseException:
            pass

    def __del__(self) -> None:
        # A finaliser cannot report errors usefully; close()/with/iteration already do.
        if "_process" in self.__dict__ and not self._finished:
            self._abort()

    def __enter__(self) -> InputPipeProcessWrapper:
        return self

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        if exc_type:
            self._abort()
        else:
            self._finish()

    def __getattr__(self, name: str) -> Any:
        if name in ("_process", "_input_pipe"):
            raise AttributeError(name)
        try:
            return getattr(self._process.stdout, name)
        except AttributeError:
            return getattr(self._input_pipe, name)

    def __iter__(self) -> Iterator[bytes]:
        yield from self._process.stdout
        self._finish()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False


class OutputPipeProcessWrapper:
    """A writable byte stream: the stdin of a command whose stdout goes to ``output_pipe``.

    ``close()`` (or a normal ``with`` exit) waits for the command; on success it closes
    ``output_pipe`` (publishing an atomic file), on failure it raises ``RuntimeError`` and the
    output is discarded. An ``output_pipe`` without a file descriptor (e.g. a ``MockTarget``
    buffer, which Luigi could not handle) is filled by a pump thread.
    """

    WRITES_BEFORE_FLUSH = 10000

    def __init__(self, command: Any, output_pipe: Any = None) -> None:
        self.closed = False
        self._command = command
        self._output_pipe = output_pipe
        self._drain: threading.Thread | None = None
        self._drain_error: BaseException | None = None
        direct = output_pipe is None or _has_fileno(output_pipe)
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=output_pipe if direct else subprocess.PIPE, close_fds=True
        )
        if not direct:
            self._drain = threading.Thread(target=self._drain_output, daemon=True)
            self._drain.start()
        self._flushcount = 0

    def _drain_output(self) -> None:
        """Pump thread: copy the command's stdout into an fd-less output pipe."""
        try:
            _pump(self._process.stdout.read1, self._output_pipe.write)
        except BaseException as err:  # reported by close()
            self._drain_error = err
        finally:
            self._process.stdout.close()  # a child still writing now gets SIGPIPE, not a hang

    def _command_error(self) -> RuntimeError:
        return RuntimeError(f"Error when executing command {self._command}")

    def write(self, *args: Any, **kwargs: Any) -> Any:
        """Write bytes to the command.

        If the command died, Luigi surfaced ``BrokenPipeError``; we report the documented
        ``RuntimeError`` when the command failed (a command that exited 0 without reading all
        input still gets ``BrokenPipeError``).
        """
        try:
            written = self._process.stdin.write(*args, **kwargs)
            self._flushcount += 1
            if self._flushcount == self.WRITES_BEFORE_FLUSH:
                self._process.stdin.flush()
                self._flushcount = 0
        except BrokenPipeError as err:
            if self._process.wait() != 0:
                raise self._command_error() from err
            raise
        return written

    def writeLine(self, line: str | bytes) -> None:  # noqa: N802 - Luigi's name
        """Write one line plus ``\\n``. Luigi's version failed for both ``str`` (binary pipe)
        and ``bytes`` (``+ "\\n"``); ``str`` is encoded like the ``Text`` format does."""
        if isinstance(line, str):
            assert "\n" not in line
            line = line.encode(locale.getpreferredencoding(False))
        assert b"\n" not in line
        self.write(line + b"\n")

    def _finish(self) -> None:
        """Close the command's stdin and wait for it (only the first time)."""
        if not self.closed:
            stdin = self._process.stdin
            try:
                if not stdin.closed:
                    stdin.close()  # flushes first
            except BrokenPipeError:
                pass  # the command stopped reading: its exit status decides
            self._process.wait()
            self.closed = True
        if self._drain is not None:
            self._drain.join()

    def close(self) -> None:
        """Wait for the command; publish the output on success, else raise ``RuntimeError``."""
        self._finish()
        if self._process.returncode != 0 or self._drain_error is not None:
            self._discard_output()
            raise self._command_error() from self._drain_error
        if self._output_pipe is not None:
            self._output_pipe.close()

    def abort(self) -> None:
        """Stop the command without publishing its output."""
        self._finish()
        self._discard_output()

    def _discard_output(self) -> None:
        # Streams that can discard (atomic files, mock buffers) do it now, not at garbage
        # collection (which for Luigi's mock buffer even meant committing the partial data).
        discard = getattr(self._output_pipe, "_discard", None)
        if discard is not None:
            discard()

    def __del__(self) -> None:
        if "_process" in self.__dict__ and not self.closed:
            self.abort()

    def __enter__(self) -> OutputPipeProcessWrapper:
        return self

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __getattr__(self, name: str) -> Any:
        if name in ("_process", "_output_pipe"):
            raise AttributeError(name)
        try:
            return getattr(self._process.stdin, name)
        except AttributeError:
            return getattr(self._output_pipe, name)

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


class BaseWrapper:
    """Base for stream wrappers: delegates everything it does not override to ``_stream``."""

    def __init__(self, stream: Any, *args: Any, **kwargs: Any) -> None:
        self._stream = stream
        # Usable as a mixin: pass the arguments on only if a real base follows us in the MRO.
        # (Luigi always called it and swallowed TypeError, hiding genuine errors.)
        mro = type(self).__mro__
        if mro[mro.index(BaseWrapper) + 1] is not object:
            super().__init__(stream, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name == "_stream":
            raise AttributeError(name)
        return getattr(self._stream, name)

    def __enter__(self) -> BaseWrapper:
        self._stream.__enter__()
        return self

    def __exit__(self, *args: Any) -> None:
        self._stream.__exit__(*args)

    def __iter__(self) -> Iterator[Any]:
        try:
            yield from self._stream
        finally:
            self.close()


_ALLOWED_NEWLINES = (b"", b"\r\n", b"\n", b"\r", None)


def _translate_newlines(data: bytes, newline: bytes) -> bytes:
    """Replace every ``\\r\\n``, ``\\r`` and ``\\n`` in ``data`` with ``newline``."""
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data if newline == b"\n" else data.replace(b"\n", newline)


class _ChunkTranslator:
    """Newline translation over a sequence of chunks: a chunk ending in ``\\r`` is held back
    so that a ``\\r\\n`` split across two chunks stays a single line break."""

    def __init__(self) -> None:
        self.pending_cr = False

    def translate(self, data: bytes, newline: bytes, final: bool) -> bytes:
        if self.pending_cr:
            data = b"\r" + data
            self.pending_cr = False
        if not final and data.endswith(b"\r"):
            data = data[:-1]
            self.pending_cr = True
        return _translate_newlines(data, newline)


class NewlineWrapper(BaseWrapper):
    """Newline normalisation on a byte stream.

    ``newline=None``: reads give ``\\n``, writes give ``os.linesep``; an explicit newline is
    used in both directions; ``""`` means no translation. Fixes over Luigi: an explicit newline
    works on read (Luigi: ``UnboundLocalError``), ``""`` no longer strips line breaks on write,
    a ``\\r\\n`` split across two chunks stays one line break, and iteration translates too.
    """

    def __init__(self, stream: Any, newline: str | None = None) -> None:
        self.newline = None if newline is None else newline.encode("ascii")
        if self.newline not in _ALLOWED_NEWLINES:
            raise ValueError("newline need to be one of {b'', b'\\r\\n', b'\\n', b'\\r', None}")
        self._reading = _ChunkTranslator()
        self._writing = _ChunkTranslator()
        super().__init__(stream)

    def _write_newline(self) -> bytes:
        return os.linesep.encode("ascii") if self.newline is None else self.newline

    def read(self, n: int = -1) -> bytes:
        if self.newline == b"":
            return self._stream.read(n)
        while True:
            data = self._stream.read(n)
            final = not data or n is None or n < 0
            out = self._reading.translate(data, self.newline or b"\n", final)
            if out or final:
                return out

    def __iter__(self) -> Iterator[bytes]:
        try:
            if self.newline == b"":
                yield from self._stream
                return
            newline = self.newline or b"\n"
            for line in self._stream:  # byte lines end in \n, so \r\n is never split
                yield from _translate_newlines(line, newline).splitlines(keepends=True)
        finally:
            self.close()

    def write(self, b: bytes) -> Any:
        if self.newline == b"":
            return self._stream.write(b)
        return self._stream.write(self._writing.translate(b, self._write_newline(), final=False))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def _flush_pending(self) -> None:
        """Emit a held-back trailing ``\\r`` (the stream is about to end)."""
        if self._writing.pending_cr:
            self._writing.pending_cr = False
            self._stream.write(self._write_newline())

    def close(self) -> None:
        self._flush_pending()
        self._stream.close()

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is None:
            self._flush_pending()
        self._stream.__exit__(exc_type, *rest)


class MixedUnicodeBytesWrapper(BaseWrapper):
    """A byte stream that also accepts ``str`` (encoded, with a warning)."""

    def __init__(self, stream: Any, encoding: str | None = None) -> None:
        self.encoding = encoding or locale.getpreferredencoding()
        super().__init__(stream)

    def _convert(self, b: Any) -> bytes:
        if isinstance(b, str):
            b = b.encode(self.encoding)
            warnings.warn("Writing unicode to byte stream", stacklevel=3)
        return b

    def write(self, b: Any) -> Any:
        return self._stream.write(self._convert(b))

    def writelines(self, lines: Any) -> None:
        self._stream.writelines([self._convert(line) for line in lines])


class TextWrapper(io.TextIOWrapper):
    """Text layer whose lifetime is decided by the underlying stream.

    Leaving ``with`` normally flushes and lets the stream commit; an exception lets the stream
    discard. Garbage collection never closes (so never commits) an atomic writer. Luigi
    swallowed ``TypeError`` from the text layer's initialisation, producing an unusable object;
    it now propagates.
    """

    def __init__(self, stream: Any, *args: Any, **kwargs: Any) -> None:
        self._stream = stream
        io.TextIOWrapper.__init__(self, stream, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name == "_stream":
            raise AttributeError(name)
        return getattr(self._stream, name)

    def __enter__(self) -> TextWrapper:
        self._stream.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> Any:
        if exc_type is None and not self.closed and self.writable():
            try:
                self.flush()
            except BaseException as err:  # e.g. an encoding error: the data must not commit
                self._stream.__exit__(type(err), err, err.__traceback__)
                raise
        return self._stream.__exit__(exc_type, exc, traceback)

    def __del__(self) -> None:
        try:
            if not self.closed and self.writable():
                self.flush()
        except Exception:
            pass
        try:
            stream_del = self._stream.__del__
        except AttributeError:
            return
        try:
            stream_del()
        except Exception:
            pass


class Format:
    """Interface of a format; ``a >> b`` chains two formats."""

    @classmethod
    def pipe_reader(cls, input_pipe: Any) -> Any:
        raise NotImplementedError()

    @classmethod
    def pipe_writer(cls, output_pipe: Any) -> Any:
        raise NotImplementedError()

    def __rshift__(a: Any, b: Any) -> ChainFormat:  # noqa: N805 - reads as "a >> b"
        return ChainFormat(a, b)


class ChainFormat(Format):
    """Formats applied in order: the first talks to the user, the last touches storage.

    Adjacent formats whose type tags disagree are rejected. Formats without tags (``Nop``,
    user formats) are deliberately not checked: they may legitimately pass anything through.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        try:
            self.input = args[0].input
        except AttributeError:
            pass
        try:
            self.output = args[-1].output
        except AttributeError:
            pass
        if kwargs.get("check_consistency", True):
            for prev, nxt in zip(args, args[1:], strict=False):
                provided = getattr(prev, "output", None)
                expected = getattr(nxt, "input", None)
                if provided is not None and expected is not None and provided != expected:
                    raise TypeError(
                        f"The format chaining is not valid, {type(nxt).__name__} expect {expected} "
                        f"but {type(prev).__name__} provide {provided}"
                    )

    def pipe_reader(self, input_pipe: Any) -> Any:
        for fmt in reversed(self.args):
            input_pipe = fmt.pipe_reader(input_pipe)
        return input_pipe

    def pipe_writer(self, output_pipe: Any) -> Any:
        for fmt in reversed(self.args):
            output_pipe = fmt.pipe_writer(output_pipe)
        return output_pipe


class NopFormat(Format):
    """Pass-through: the raw byte stream itself."""

    def pipe_reader(self, input_pipe: Any) -> Any:
        return input_pipe

    def pipe_writer(self, output_pipe: Any) -> Any:
        return output_pipe


class WrappedFormat(Format):
    """A format that wraps the stream in ``wrapper_cls(stream, *args, **kwargs)``."""

    wrapper_cls: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs

    def pipe_reader(self, input_pipe: Any) -> Any:
        return self.wrapper_cls(input_pipe, *self.args, **self.kwargs)

    def pipe_writer(self, output_pipe: Any) -> Any:
        return self.wrapper_cls(output_pipe, *self.args, **self.kwargs)


class TextFormat(WrappedFormat):
    """``str`` on the user side (``io.TextIOWrapper`` arguments: encoding, errors, newline)."""

    input = "unicode"
    output = "bytes"
    wrapper_cls = TextWrapper


class MixedUnicodeBytesFormat(WrappedFormat):
    """Bytes that also accept ``str`` writes."""

    output = "bytes"
    wrapper_cls = MixedUnicodeBytesWrapper


class NewlineFormat(WrappedFormat):
    """Newline normalisation on bytes."""

    input = "bytes"
    output = "bytes"
    wrapper_cls = NewlineWrapper


class GzipFormat(Format):
    """gzip compression through the ``gzip``/``gunzip`` programs."""

    input = "bytes"
    output = "bytes"

    def __init__(self, compression_level: int | None = None) -> None:
        self.compression_level = compression_level

    def pipe_reader(self, input_pipe: Any) -> InputPipeProcessWrapper:
        return InputPipeProcessWrapper(["gunzip"], input_pipe)

    def pipe_writer(self, output_pipe: Any) -> OutputPipeProcessWrapper:
        args = ["gzip"]
        if self.compression_level is not None:
            args.append("-" + str(int(self.compression_level)))
        return OutputPipeProcessWrapper(args, output_pipe)


class Bzip2Format(Format):
    """bzip2 compression through the ``bzip2``/``bzcat`` programs."""

    input = "bytes"
    output = "bytes"

    def pipe_reader(self, input_pipe: Any) -> InputPipeProcessWrapper:
        return InputPipeProcessWrapper(["bzcat"], input_pipe)

    def pipe_writer(self, output_pipe: Any) -> OutputPipeProcessWrapper:
        return OutputPipeProcessWrapper(["bzip2"], output_pipe)


Text = TextFormat()
UTF8 = TextFormat(encoding="utf8")
Nop = NopFormat()
SysNewLine = NewlineFormat()
Gzip = GzipFormat()
Bzip2 = Bzip2Format()
MixedUnicodeBytes = MixedUnicodeBytesFormat()


def get_default_format() -> Format:
    """The format targets use when none is given: ``Text``."""
    return Text
