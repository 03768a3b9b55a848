"""Every process entry point: `balance-booking <command>`."""

from __future__ import annotations

import argparse
import getpass
import importlib.util
import os
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import uvicorn
from pydantic import SecretStr
from uvicorn.supervisors import Multiprocess

from balance_booking.adapters.logging_setup import configure_logging
from balance_booking.adapters.metrics import serve_metrics
from balance_booking.application.admin import ListAdminTokens, RevokeAdminToken
from balance_booking.application.audit import auditing
from balance_booking.application.errors import ConflictError, InvalidRequestError, NotFoundError
from balance_booking.application.sync import NotConnectedError, SyncFailedError
from balance_booking.bootstrap import (
    Container,
    admin_token_works,
    build_app,
    build_container,
    build_sync,
    build_worker,
    create_admin,
    create_admin_token,
    freeze_startup_heap,
    limit_malloc_arenas,
    migrate_database,
    rotate_keys,
)
from balance_booking.config import Settings
from balance_booking.worker.loop import WorkerLoop, start_in_thread


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="balance-booking", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    serve = commands.add_parser("serve", help="run the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="web processes (PostgreSQL)")
    serve.add_argument(
        "--no-worker", action="store_true", help="do not run the worker loop in this process"
    )
    serve.add_argument(
        "--loop",
        choices=("auto", "uvloop", "asyncio"),
        default="auto",
        help="event loop (auto: uvloop when installed, else asyncio)",
    )
    serve.add_argument(
        "--http",
        choices=("auto", "httptools", "h11"),
        default="auto",
        help="HTTP/1.1 parser (auto: httptools when installed, else h11)",
    )

    demo = commands.add_parser("demo", help="embedded default with demo data")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--emulator-port", type=int, default=8765)
    demo.add_argument("--mail-smtp-port", type=int, default=1025)
    demo.add_argument("--mail-port", type=int, default=8025)

    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("worker", help="run the worker alone (scheduler + outbox), for scale-out")
    commands.add_parser("sync-now", help="one busy-time sync from Google Calendar, printed")
    commands.add_parser(
        "rotate-keys",
        help="re-encrypt stored tokens under the first BALANCE_TOKEN_ENCRYPTION_KEYS key",
    )

    token = commands.add_parser("create-admin-token", help="print a new admin API token once")
    token.add_argument("--name", default="cli")
    token.add_argument(
        "--expires-days", type=int, default=90, help="days until it expires (0: never)"
    )
    commands.add_parser("list-admin-tokens", help="the admin API tokens (never their secrets)")
    revoke = commands.add_parser("revoke-admin-token", help="revoke an admin API token by id")
    revoke.add_argument("token_id", type=int)

    admin = commands.add_parser(
        "create-admin", help="create an admin account (password from stdin or a prompt)"
    )
    admin.add_argument("--email", required=True)

    emulator = commands.add_parser("gcal-emulator", help="run the Google Calendar emulator")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8765)
    emulator.add_argument("--auto-consent", action="store_true")
    emulator.add_argument("--state", type=Path, default=None, help="JSON file to persist state")

    mail = commands.add_parser("mail-sink", help="run the development mail sink (SMTP + inbox)")
    mail.add_argument("--host", default="127.0.0.1")
    mail.add_argument("--smtp-port", type=int, default=1025)
    mail.add_argument("--port", type=int, default=8025, help="the inbox page and JSON API")
    return parser


def _prepare(settings: Settings) -> Container:
    container = build_container(settings)
    if container.is_sqlite():
        # The embedded database migrates itself; PostgreSQL is migrated explicitly.
        migrate_database(container)
    return container


def _cli_actor() -> str:
    """Who acts from the command line, for the audit log: `cli:` and the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no such user in the password database (e.g. a bare container)
        return "cli"


def _read_password() -> str:
    """The first line of stdin when piped; otherwise asked twice without echo."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat the password: ") != password:
        raise InvalidRequestError("The passwords do not match.", field="password")
    return password


def _sync_now(container: Container) -> int:
    try:
        report = build_sync(container).execute()
    except (NotConnectedError, SyncFailedError) as exc:
        print(f"sync-now: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
        return 1
    print(  # noqa: T201 - CLI output
        f"synced: {report.busy_intervals} busy interval(s), "
        f"{'changed' if report.changed else 'unchanged'}, {report.duration_ms} ms"
    )
    return 0


def _run_demo(
    settings: Settings,
    *,
    host: str,
    port: int,
    emulator_port: int,
    mail_ports: tuple[int, int] = (1025, 8025),
) -> None:
    """The embedded default: SQLite, the Google emulator and the mail sink alongside, demo data,
    the worker in-process."""
    # Imported here: the demo brings the emulator and its web stack, which no other command
    # (the worker in particular, memory budget 120 MB) should carry.
    from balance_booking.demo import (  # noqa: PLC0415
        DEMO_ADMIN,
        ensure_demo_admin,
        seed_demo,
        start_demo_emulator,
        start_demo_mail_sink,
    )

    base = f"http://{host}:{port}"
    emulator = start_demo_emulator(
        host=host, port=emulator_port, var_dir=settings.var_dir, app_base_url=base
    )
    sink = start_demo_mail_sink(host=host, smtp_port=mail_ports[0], http_port=mail_ports[1])
    settings = Settings(
        public_base_url=base,
        google_emulator_url=emulator.base_url,
        google_client_id=emulator.client_id,
        google_client_secret=emulator.client_secret,
        smtp_url=SecretStr(sink.smtp_url),
        mail_from="Эмоциональный баланс <booking@balance.example>",
        practitioner_email="practitioner@balance.example",
    )
    container = _prepare(settings)
    seeded = seed_demo(container)
    password = ensure_demo_admin(container)
    token = _demo_token(container, settings.var_dir / "demo_admin_token")
    login = (
        f"{DEMO_ADMIN} / {password}"
        if password
        else f"{DEMO_ADMIN} (password printed on first start)"
    )
    print(  # noqa: T201 - the demo's welcome text
        f"balance-booking demo{' (demo data seeded)' if seeded else ''}\n"
        f"  booking page:    {base}/booking/slot/\n"
        f"  admin sign-in:   {base}/admin/login   {login}\n"
        f"  schedule:        {base}/admin/schedule/\n"
        f"  integrations:    {base}/admin/settings/integrations  (Connect -> the emulator's consent page)\n"
        f"  public slots:    {base}/api/public/booking/slots?service_slug=consultation\n"
        f"  API docs:        {base}/api/docs\n"
        f"  admin token:     {token}\n"
        f"  Google emulator: {emulator.base_url}/_emulator/calendar  (the owner's calendar by week)\n"
        f"  mail inbox:      {sink.http_url}/  (every e-mail the demo sends: {sink.smtp_url})",
        flush=True,
    )
    start_in_thread(build_worker(container))
    uvicorn.run(build_app(container), host=host, port=port, log_config=None)


@dataclass(frozen=True, slots=True)
class HttpStack:
    """The event loop and HTTP parser a web process runs with, named on start-up."""

    loop: str  # "uvloop" | "asyncio"
    http: str  # "httptools" | "h11"

    def describe(self) -> str:
        return f"loop={self.loop} http={self.http}"


def http_stack(*, loop: str = "auto", http: str = "auto") -> HttpStack:
    """Resolve "auto" the way uvicorn does (the C speed-ups when importable), so the choice is
    explicit and can be printed; the pure-Python pair (asyncio + h11) is always available."""

    def importable(name: str) -> bool:
        return importlib.util.find_spec(name) is not None

    if loop == "auto":
        loop = "uvloop" if importable("uvloop") else "asyncio"
    if http == "auto":
        http = "httptools" if importable("httptools") else "h11"
    return HttpStack(loop=loop, http=http)


def _serve_processes(*, host: str, port: int, workers: int, stack: HttpStack) -> None:
    """`uvicorn.run(..., workers=N)`, except that the shared socket says it is TCP.

    uvicorn binds the listening socket with protocol 0; accepted connections inherit it, and
    asyncio then leaves TCP_NODELAY off, so on Linux every keep-alive response waited ~40 ms
    for the client's delayed ACK (uvicorn issue #3149; `--workers 1` is not affected, asyncio
    binds that socket itself). Re-opening the descriptor lets the kernel report IPPROTO_TCP.
    """
    config = uvicorn.Config(
        "balance_booking.bootstrap:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop=stack.loop,
        http=stack.http,
        log_config=None,  # keep our logging set-up (JSON, redaction)
    )
    Multiprocess(config, sockets=[tcp_listener(config)]).run()


def tcp_listener(config: uvicorn.Config) -> socket.socket:
    """The socket uvicorn would bind for `config`, re-opened so that it reports IPPROTO_TCP."""
    bound = config.bind_socket()
    return socket.socket(fileno=bound.detach())


def _serve_worker_metrics(settings: Settings) -> None:
    if settings.worker_metrics_port is not None:
        serve_metrics(host=settings.worker_metrics_host, port=settings.worker_metrics_port)


def _run_worker(loop: WorkerLoop) -> None:
    """Run until SIGTERM/SIGINT; the current job finishes before the process exits."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    loop.run(stop)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    limit_malloc_arenas()  # before any thread starts
    if args.command == "gcal-emulator":
        from balance_booking.emulators.google_calendar.app import (  # noqa: PLC0415 - own program
            EmulatorConfig,
            run_emulator,
        )

        run_emulator(
            host=args.host,
            port=args.port,
            config=EmulatorConfig(auto_consent=args.auto_consent, state_path=args.state),
        )
        return 0
    if args.command == "mail-sink":
        from balance_booking.emulators.mail_sink.server import run_mail_sink  # noqa: PLC0415

        run_mail_sink(host=args.host, smtp_port=args.smtp_port, http_port=args.port)
        return 0
    settings = Settings()
    configure_logging(settings.log_level)
    if args.command == "migrate":
        migrate_database(build_container(settings))
        print("migrations applied")  # noqa: T201 - CLI output
        return 0
    if args.command == "rotate-keys":
        container = _prepare(settings)
        with auditing("keys.rotate", actor=_cli_actor()):
            report = rotate_keys(container)
        print(  # noqa: T201 - CLI output
            f"re-encrypted {report.rotated} secret(s); "
            f"{report.undecryptable} could not be decrypted (those need a reconnect)"
        )
        return 0 if report.undecryptable == 0 else 1
    if args.command == "create-admin-token":
        if args.expires_days < 0:
            parser.error("--expires-days must be 0 (never) or more")
        container = _prepare(settings)
        lifetime = timedelta(days=args.expires_days) if args.expires_days else None
        with auditing("token.create", target=f"name={args.name}", actor=_cli_actor()):
            secret = create_admin_token(container, name=args.name, lifetime=lifetime)
        print(secret)  # noqa: T201 - CLI output
        return 0
    if args.command == "list-admin-tokens":
        container = _prepare(settings)
        for token in ListAdminTokens(uow_factory=container.readers).execute():
            print(  # noqa: T201 - CLI output
                f"{token.token_id}\t{token.name}\tcreated {_when(token.created_at)}"
                f"\tlast used {_when(token.last_used_at)}\texpires {_when(token.expires_at)}"
            )
        return 0
    if args.command == "revoke-admin-token":
        container = _prepare(settings)
        try:
            with auditing("token.revoke", target=f"token_id={args.token_id}", actor=_cli_actor()):
                RevokeAdminToken(uow_factory=container.writers).execute(args.token_id)
        except NotFoundError:
            print(f"no admin token has id {args.token_id}", file=sys.stderr)  # noqa: T201
            return 1
        print(f"revoked admin token {args.token_id}")  # noqa: T201 - CLI output
        return 0
    if args.command == "create-admin":
        container = _prepare(settings)
        password = _read_password()
        try:
            with auditing("admin.create", target=f"email={args.email}", actor=_cli_actor()):
                created = create_admin(container, email=args.email, password=password)
        except (InvalidRequestError, ConflictError) as exc:
            print(f"create-admin: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
            return 1
        print(f"admin {created.email} created")  # noqa: T201 - CLI output
        return 0
    if args.command == "sync-now":
        return _sync_now(_prepare(settings))
    if args.command == "worker":
        container = _prepare(settings)
        _serve_worker_metrics(settings)
        _run_worker(build_worker(container))
        return 0
    if args.command == "serve":
        container = _prepare(settings)
        if not args.no_worker:
            start_in_thread(build_worker(container))
            if args.workers > 1:  # this parent serves no requests: its worker's own endpoint
                _serve_worker_metrics(settings)
        stack = http_stack(loop=args.loop, http=args.http)
        print(f"balance-booking serve: {stack.describe()}", flush=True)  # noqa: T201 - CLI output
        if args.workers > 1:
            _serve_processes(host=args.host, port=args.port, workers=args.workers, stack=stack)
        else:
            app = build_app(container)
            freeze_startup_heap()
            uvicorn.run(
                app,
                host=args.host,
                port=args.port,
                loop=stack.loop,
                http=stack.http,
                log_config=None,
            )
        return 0
    if args.command == "demo":
        _run_demo(
            settings,
            host=args.host,
            port=args.port,
            emulator_port=args.emulator_port,
            mail_ports=(args.mail_smtp_port, args.mail_port),
        )
        return 0
    return 2


def _demo_token(container: Container, path: Path) -> str:
    """The demo's admin API token: the one it printed before while it still works, else a new
    one, kept in var/ (0600) for the next start."""
    if path.exists():
        kept = path.read_text(encoding="utf-8").strip()
        if kept and admin_token_works(container, kept):
            return kept
        path.unlink()
    token = create_admin_token(container, name="demo")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token)
    return token


def _when(instant: datetime | None) -> str:
    return "never" if instant is None else instant.isoformat(timespec="seconds")


if __name__ == "__main__":
    sys.exit(main())
