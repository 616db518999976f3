"""Fuzzing every reader through the CLI: any bytes give exit 0, or exit 2 with one line naming the file.

Inputs are arbitrary bytes, or a valid constructed fixture of the format mutated in a few places
(bytes inserted, deleted or replaced; syntax such as ``-->``, ``<v ``, quotes, braces, zero-width
characters and absurd times spliced in), which reaches far deeper into each reader than noise.
A reader that raises anything but :class:`coder.errors.InputError` shows up as the pipeline's
catch-all ``could not read (SomeError: …)`` line and fails the test.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from coder.cli import app
from tests.conftest import FIXTURES

SEEDS = {"text": "mini.txt", "csv": "mini.csv", "tsv": "mini.tsv", "jsonl": "mini.jsonl", "json": "mini.json",
         "vtt": "mini.vtt", "srt": "mini.srt", "whisper": "mini.whisper.json", "eaf": "mini.eaf",
         "docx": "mini.docx"}
EXAMPLES = {"docx": 30}
TOKENS = [b"-->", b" --> ", b"<v ", b">", b"</v>", b"&amp;", b"&", b":", b": ", b"\n", b"\r\n", b"\n\n", b"\"", b",",
          b"\t", b"{", b"}", b"[", b"]", b"null", b"[1, 2]", b"-1", b"1e999", b"NaN", b"99:99:99.999", b"00:00:75.000",
          b"\xef\xbb\xbf", "\u200b".encode(), "É".encode(), b"\xff\xfe", b"\x00", b"#", b"NOTE ", b"WEBVTT\n\n",
          b"<TIER>", b'TIME_SLOT_REF1="ts99"', b"PARENT_REF=\"T\" ", b"SPEAKER_00: ", b"Speaker 1: "]


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "token"]))
        chunk = draw(st.binary(min_size=1, max_size=6))
        if op == "insert":
            data[pos:pos] = chunk
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 40))]
        elif op == "replace":
            data[pos:pos + len(chunk)] = chunk
        else:
            data[pos:pos] = draw(st.sampled_from(TOKENS))
    return bytes(data)


def _inputs(fmt: str):
    seed = (FIXTURES / SEEDS[fmt]).read_bytes()
    return st.one_of(st.binary(max_size=300), mutated(seed))


@pytest.mark.parametrize("fmt", list(SEEDS))
def test_fuzz_any_bytes_exit_0_or_2_with_one_line(tmp_path, fmt):
    runner = CliRunner()
    path = tmp_path / ("input." + SEEDS[fmt].rsplit(".", 1)[-1])
    out = tmp_path / "out.csv"

    @given(data=_inputs(fmt))
    @settings(max_examples=EXAMPLES.get(fmt, 80), deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    def check(data: bytes) -> None:
        path.write_bytes(data)
        result = runner.invoke(app, ["segment", str(path), "--format", fmt, "-o", str(out)])
        assert result.exit_code in (0, 2), (result.exit_code, result.output, result.exception)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        lines = [line for line in result.stderr.splitlines() if not line.startswith("warning: ")]
        if result.exit_code == 2:
            assert len(lines) == 1, lines
            assert lines[0].startswith(f"{path}"), lines
            assert "could not read (" not in lines[0], lines  # an exception other than InputError
        else:
            assert lines and "session(s)" in lines[-1], lines

    check()
