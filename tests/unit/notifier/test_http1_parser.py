"""The lean webhook client's response parser: where an answer ends, fed in any slicing."""

from __future__ import annotations

import pytest

from services.notifier.channels.http1 import _Answer, _request


def feed_in_pieces(raw: bytes, size: int) -> tuple[_Answer, bool]:
    answer, done = _Answer(), False
    for start in range(0, len(raw), size):
        assert not done, "complete before its last byte"
        done = answer.feed(raw[start : start + size])
    return answer, done


@pytest.mark.parametrize("size", [1, 3, 7, 1000])
def test_content_length_body(size: int) -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello"
    answer, done = feed_in_pieces(raw, size)
    assert done
    assert answer.status == 200
    assert answer.keep_alive
    assert answer.retry_after is None


@pytest.mark.parametrize("size", [1, 2, 5, 1000])
def test_chunked_body_with_and_without_trailers(size: int) -> None:
    plain = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    answer, done = feed_in_pieces(plain, size)
    assert done
    assert answer.keep_alive
    trailed = (
        b"HTTP/1.1 202 Accepted\r\ntransfer-encoding: Chunked\r\n\r\n"
        b"3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Sum: 1\r\n\r\n"
    )
    answer, done = feed_in_pieces(trailed, size)
    assert done
    assert answer.status == 202


def test_retry_after_and_connection_close() -> None:
    raw = (
        b"HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    answer, done = feed_in_pieces(raw, 1000)
    assert done
    assert answer.status == 429
    assert answer.retry_after == "7"
    assert not answer.keep_alive


def test_close_delimited_body_ends_with_the_stream() -> None:
    answer = _Answer()
    assert not answer.feed(b"HTTP/1.0 200 OK\r\n\r\nsome body")
    assert not answer.feed(b" more")
    assert answer.end_of_stream()
    assert not answer.keep_alive
    assert answer.status == 200


def test_interim_answer_skipped_and_no_body_statuses() -> None:
    answer, done = feed_in_pieces(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 4
    )
    assert done
    assert answer.status == 204
    assert answer.keep_alive


def test_a_truncated_answer_is_not_complete() -> None:
    answer = _Answer()
    assert not answer.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
    assert not answer.end_of_stream()


@pytest.mark.parametrize(
    "raw", [b"HTTP/1.1 abc\r\n\r\n", b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"],
)  # fmt: skip
def test_malformed_heads_raise_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError, match=r".+"):
        _Answer().feed(raw)


def test_request_bytes_and_header_injection_refused() -> None:
    data = _request("POST /h HTTP/1.1\r\nHost: x\r\n", b"{}", {"webhook-id": "n-1"})
    assert data == b"POST /h HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nwebhook-id: n-1\r\n\r\n{}"
    with pytest.raises(ValueError, match="line break"):
        _request("POST / HTTP/1.1\r\n", b"", {"x": "a\r\nInjected: 1"})


def test_an_endless_head_is_refused() -> None:
    answer = _Answer()
    answer.feed(b"HTTP/1.1 200 OK\r\n" + b"X-Filler: aaaaaaaaaaaaaaaa\r\n" * 2000)  # 58 kB: not yet
    with pytest.raises(ValueError, match="too long"):
        answer.feed(b"X-Filler: aaaaaaaaaaaaaaaa\r\n" * 400)


def test_bytes_after_the_answer_stop_reuse() -> None:
    answer = _Answer()
    assert answer.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert not answer.keep_alive
