"""Tests for captured learner output: escape-code stripping and the head/tail byte cap."""

from __future__ import annotations

import re

import pytest

from grader.sandbox.output import CappedOutput, clean

ESC = "\x1b"


# ----------------------------------------------------------------------------- clean


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\x1b[31mred\x1b[0m b", "ared b"),
        ("\x1b[1;38;5;196mbold\x1b[m", "bold"),
        ("x\x1b[2Jy", "xy"),
        ("x\x1b[H\x1b[3Jy", "xy"),
        ("\x1b[?25lhidden cursor\x1b[?25h", "hidden cursor"),
        ("\x1b[10;20Hmoved", "moved"),
        ("p\x1b]52;c;aGVsbG8=\x07q", "pq"),
        ("p\x1b]52;c;aGVsbG8=\x1b\\q", "pq"),
        ("p\x1b]52;c;aGVsbG8=", "p"),
        ("\x1b]0;fake title\x07after", "after"),
        ("\x1b]8;;file:///etc/passwd\x1b\\click\x1b]8;;\x1b\\ me", "click me"),
        ("a\x1bP1$r0m\x1b\\b", "ab"),
        ("a\x1bPq#0;2;0;0;0#0~~\x1b\\b", "ab"),
        ("a\x1b_apc payload\x1b\\b", "ab"),
        ("a\x1b^pm\x1b\\b", "ab"),
        ("a\x1bXsos\x1b\\b", "ab"),
        ("a\x1bMb", "ab"),  # reverse index
        ("a\x1b=b", "ab"),  # ESC = (keypad mode) is a two-character escape: both go
        ("trailing\x1b", "trailing"),
        ("\x1b\x1b\x1b", ""),
    ],
)
def test_escape_sequences_are_removed(raw: str, expected: str) -> None:
    assert clean(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\x00b", "ab"),
        ("bell\x07!", "bell!"),
        ("back\x08space", "backspace"),
        ("vt\x0bff\x0c", "vtff"),
        ("del\x7fete", "delete"),
        ("c1\x85\x90\x9b\x9d\x9fend", "c1end"),
        ("so\x0esi\x0f", "sosi"),
        ("\x1c\x1d\x1e\x1f", ""),
    ],
)
def test_control_characters_are_removed(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_newlines_tabs_and_unicode_are_kept() -> None:
    text = "loss\t0.25\nacc\t0.9 é ß 日本語 🙂 ∑ √\n"
    assert clean(text) == text


def test_carriage_returns_become_newlines() -> None:
    assert clean("a\r\nb\r\n") == "a\nb\n"
    assert clean("progress 10%\rprogress 20%") == "progress 10%\nprogress 20%"


@pytest.mark.parametrize(
    "text",
    ["[/bold]", "[link=file:///etc/passwd]open me[/link]", "[red]x[/red] [b]", "list[int]"],
)
def test_markup_like_text_is_left_alone(text: str) -> None:
    assert clean(text) == text


def test_no_escape_survives_a_mixed_flood() -> None:
    raw = "".join(f"{i}\x1b[{i}m\x1b]52;c;{i}\x07\x1bP{i}\x1b\\\x9b{i}\r\n" for i in range(200))
    out = clean(raw)
    assert ESC not in out and "\r" not in out
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", out)
    assert out.startswith("0") and "199" in out


@pytest.mark.parametrize("raw", ["a\x1b(Bb", "a\x1b7\x1b8b", "a\x1bcb", "a\x1b#8b", "a\x1b%Gb"])
def test_other_escapes_lose_their_esc(raw: str) -> None:
    out = clean(raw)
    assert ESC not in out and out.startswith("a") and out.endswith("b")


@pytest.mark.parametrize("raw", ["plain\x1b(B\x1b[mtext", "plain\x1b7\x1b8text", "plain\x1bctext"])
def test_escape_sequences_leave_no_stray_characters(raw: str) -> None:
    assert clean(raw) == "plaintext"


# ----------------------------------------------------------------------------- CappedOutput


def marker_count(text: str) -> int | None:
    found = re.findall(r"\[(\d+) bytes of output elided\]", text)
    assert len(found) <= 1
    return int(found[0]) if found else None


def test_small_writes_are_kept_whole() -> None:
    out = CappedOutput(cap=100)
    for part in (b"hello ", b"", b"world\n", b"x" * 50):
        out.write(part)
    text = out.take()
    assert text == "hello world\n" + "x" * 50
    assert marker_count(text) is None


def test_exactly_twice_the_cap_is_not_elided() -> None:
    out = CappedOutput(cap=10)
    out.write(b"a" * 10)
    out.write(b"b" * 10)
    assert out.take() == "a" * 10 + "b" * 10


def pattern(size: int) -> bytes:
    """Distinct, printable bytes so that head and tail can be checked position by position."""
    block = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY"  # 61: prime
    return (block * (size // len(block) + 1))[:size]


@pytest.mark.parametrize("cap", [1, 1000, 16_384])
def test_ten_megabytes_in_varied_chunks(cap: int) -> None:
    total = 10 * 2**20
    data = pattern(total)
    out = CappedOutput(cap=cap)
    sizes = [1, 7, 4096, 3, cap, cap + 1, 65_536, 2 * cap + 5, 999_983]
    position, turn = 0, 0
    while position < total:
        size = sizes[turn % len(sizes)]
        out.write(data[position : position + size])
        position += size
        turn += 1
    assert len(out.head) == cap and len(out.tail) == cap
    assert bytes(out.head) == data[:cap]
    assert bytes(out.tail) == data[-cap:]
    text = out.take()
    assert marker_count(text) == total - 2 * cap
    head, _, tail = text.partition(f"\n... [{total - 2 * cap} bytes of output elided] ...\n")
    assert head == data[:cap].decode() and tail == data[-cap:].decode()


def test_one_huge_single_write() -> None:
    data = pattern(5 * 2**20 + 17)
    out = CappedOutput(cap=4096)
    out.write(data)
    text = out.take()
    assert marker_count(text) == len(data) - 2 * 4096
    assert text.startswith(data[:4096].decode())
    assert text.endswith(data[-4096:].decode())
    assert len(text) < 3 * 4096


def test_huge_write_after_the_head_is_full() -> None:
    out = CappedOutput(cap=8)
    out.write(b"H" * 8)
    out.write(b"t" * 5)
    out.write(b"x" * 1000 + b"TAILTAIL")
    assert out.take() == "H" * 8 + "\n... [1005 bytes of output elided] ...\n" + "TAILTAIL"


def test_take_resets() -> None:
    out = CappedOutput(cap=4)
    out.write(b"0123456789")
    assert marker_count(out.take()) == 2
    assert out.take() == ""
    out.write(b"ab")
    assert out.take() == "ab"
    assert out.elided == 0 and not out.head and not out.tail


def test_take_cleans_the_text() -> None:
    out = CappedOutput(cap=100)
    out.write(b"\x1b[31mred\x1b[0m\r\n\x1b]52;c;aGk=\x07ok")
    assert out.take() == "red\nok"


@pytest.mark.parametrize("cap", [1, 2, 3, 5, 6, 7])
def test_multibyte_utf8_split_at_the_cut(cap: int) -> None:
    text = "é日🙂" * 50
    out = CappedOutput(cap=cap)
    for char in text:
        out.write(char.encode())
    result = out.take()  # must not raise
    assert marker_count(result) == len(text.encode()) - 2 * cap
    assert "\x1b" not in result


def test_invalid_utf8_bytes_become_replacement_characters() -> None:
    out = CappedOutput(cap=100)
    out.write(b"ok \xff\xfe\xc3 end")
    result = out.take()
    assert result.startswith("ok ") and result.endswith(" end") and "\ufffd" in result
