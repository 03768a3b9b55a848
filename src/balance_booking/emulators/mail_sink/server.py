"""Running the sink: SMTP and HTTP on one asyncio loop in a thread (tests), or until a signal (CLI)."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import threading
import time
from functools import partial
from types import TracebackType

import uvicorn

from balance_booking.emulators.mail_sink.app import create_mail_app
from balance_booking.emulators.mail_sink.inbox import DEFAULT_MAX_MESSAGES, Inbox
from balance_booking.emulators.mail_sink.smtp import smtp_factory

START_TIMEOUT_SECONDS = 10.0


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one (read it back from the socket)."""
    sock = socket.create_server((host, port), reuse_port=False)
    sock.setblocking(False)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class MailSink:
    """The SMTP server and the HTTP app over one in-memory inbox.

    Both sockets are bound in `start()` (so the ports are known, and a port in use fails there);
    both servers then run on one asyncio loop in a daemon thread until `stop()`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        smtp_port: int = 0,
        http_port: int = 0,
        max_messages: int = DEFAULT_MAX_MESSAGES,
    ) -> None:
        self.host = host
        self.inbox = Inbox(max_messages=max_messages)
        self._requested = (smtp_port, http_port)
        self._smtp_socket: socket.socket | None = None
        self._http_socket: socket.socket | None = None
        self._http: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._bound: tuple[int, int] | None = None  # (SMTP, HTTP) ports, known once bound

    @property
    def smtp_port(self) -> int:
        return self._port(0)

    @property
    def http_port(self) -> int:
        return self._port(1)

    @property
    def smtp_url(self) -> str:
        return f"smtp://{_url_host(self.host)}:{self.smtp_port}"

    @property
    def http_url(self) -> str:
        """The inbox page's base URL, no trailing slash."""
        return f"http://{_url_host(self.host)}:{self.http_port}"

    def _port(self, which: int) -> int:
        if self._bound is None:
            raise RuntimeError("the mail sink was never started")
        return self._bound[which]

    def start(self) -> MailSink:
        if self._thread is not None:
            raise RuntimeError("the mail sink is already started")
        smtp_port, http_port = self._requested
        self._smtp_socket = _listen(self.host, smtp_port)
        try:
            self._http_socket = _listen(self.host, http_port)
        except OSError:
            self._smtp_socket.close()
            raise
        self._bound = (self._smtp_socket.getsockname()[1], self._http_socket.getsockname()[1])
        app = create_mail_app(self.inbox, smtp_url=self.smtp_url)
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        self._http = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, name=f"mail-sink-{self.smtp_port}", daemon=True
        )
        self._thread.start()
        self._wait_started()
        return self

    def _wait_started(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while self._http is not None and not self._http.started:
            alive = self._thread is not None and self._thread.is_alive()
            if not alive or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the mail sink did not start") from self._failure
            time.sleep(0.01)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to start() through _failure
            self._failure = exc

    async def _serve(self) -> None:
        assert self._http is not None  # noqa: S101 - set by start()
        assert self._smtp_socket is not None  # noqa: S101
        assert self._http_socket is not None  # noqa: S101
        loop = asyncio.get_running_loop()
        smtp = await loop.create_server(
            partial(smtp_factory, self.inbox, hostname=self.host), sock=self._smtp_socket
        )
        try:
            await self._http.serve(sockets=[self._http_socket])
        finally:
            smtp.close()  # open SMTP sessions end with the loop (no wait: they may idle 300 s)

    def stop(self) -> None:
        if self._http is not None:
            self._http.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=START_TIMEOUT_SECONDS)
        for sock in (self._smtp_socket, self._http_socket):
            if sock is not None:
                sock.close()
        self._thread = None

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def run_mail_sink(*, host: str, smtp_port: int, http_port: int) -> None:
    """Serve the sink until SIGINT or SIGTERM (blocking); prints where it listens."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with MailSink(host=host, smtp_port=smtp_port, http_port=http_port) as sink:
        sys.stdout.write(
            "balance-booking mail sink (messages stay in memory, nothing is delivered)\n"
            f"  inbox: {sink.http_url}/\n"
            f"  SMTP:  {sink.smtp_url}\n"
        )
        sys.stdout.flush()
        while not stop.wait(1.0):
            pass
