"""A fleet on 127.0.0.1, from real processes: three `kard-bff serve --workers 2` instances
behind Debian's nginx (docs/ops/nginx.conf, round robin), one `redis-server`, and the
standalone simulator (`kard-bff sandbox`) as Kard.

In a test (fixtures in conftest.py: `fleet` once per module, `kard` the same fleet with the
simulator reset, `receiver` what notifications are forwarded to):

    fleet.url                          nginx; fleet.instances[n].url one instance's own port
    fleet.instances[n].kill()          SIGKILL its process group; .stop() SIGTERM; .start()
    fleet.restart_all(BFF_RATE_LIMIT="10/minute")   every instance again, settings changed
    fleet.redis.stop() / .start()      same port, same data directory (the AOF)
    fleet.headers("user-1")            an Authorization header every instance accepts
    fleet.calls(r"/attributions$")     the simulator's call log; fleet.control(...) the rest
    fleet.served("/healthz?x=", 30)    per instance, how many of 30 requests it answered
    fleet.flush_redis()                shared tokens and counts forgotten, never queued work
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import jwt
import redis

from bench.harness import free_port
from bff.attributions.outbox.redis import DUE as ATTRIBUTIONS_DUE
from bff.webhooks.inbox.redis import DUE as NOTIFICATIONS_DUE
from bff.webhooks.signature import sign
from tests.servers import ROOT, RedisServer, ServerProcess

NGINX = Path("/usr/sbin/nginx")
NGINX_CONF = ROOT / "docs" / "ops" / "nginx.conf"
JWT_SECRET = "fleet-session-secret-at-least-32-bytes"
WEBHOOK_KEY = "fleet-webhook-key"
INSTANCES = 3
WORKERS = 2
# "Accepted means never lost": a 202 means the events are in the Redis outbox, so Redis must
# not lose a write it acknowledged. appendfsync always puts every write on disk before Redis
# answers; everysec would lose up to the last second of accepted batches if the host (not just
# redis-server) went down. A stop by SIGTERM, as here, loses nothing with either: the test shows
# the restart, the setting is what docs/fleet.md tells operators. No RDB snapshots: the AOF is
# the record.
REDIS_PERSISTENCE = ("--save", "", "--appendonly", "yes", "--appendfsync", "always")


class Fleet:
    """The running fleet: `url` is nginx's, `instances` answer on their own ports too."""

    def __init__(self, directory: Path, *, forward_url: str, **settings: str):
        directory.chmod(0o755)  # nginx's workers (nobody) write their temp files under it
        self.directory = directory
        self.redis = RedisServer(directory / "redis", args=REDIS_PERSISTENCE)
        self.simulator = ServerProcess(
            ["sandbox", "--webhook-key", WEBHOOK_KEY],
            env=_environment(),
            health_path="/_sandbox/calls",
            log=directory / "simulator.log",
        )
        self.kard_url = self.simulator.url
        self._settings = {
            "KARD_ENV": "production",
            "KARD_API_URL": self.kard_url,
            "KARD_AUTH_URL": f"{self.kard_url}/v2/auth/token",
            "KARD_CLIENT_ID": "sandbox-client",
            "KARD_CLIENT_SECRET": "sandbox-secret",
            "KARD_ORGANIZATION_ID": "org-sandbox",
            "KARD_WEBHOOK_KEY": WEBHOOK_KEY,
            "KARD_TIMEOUT": "2",
            "BFF_AUTH_MODE": "hs256",
            "BFF_JWT_SECRET": JWT_SECRET,
            "BFF_WEBHOOK_FORWARD_URL": forward_url,
            "BFF_TRUSTED_PROXIES": "127.0.0.1",
            "REDIS_URL": self.redis.url,
            **settings,
        }
        self._environments = [
            {**_environment(), **self._settings, "BFF_STATE_DIR": str(directory / f"i{n}")}
            for n in range(INSTANCES)
        ]
        self.instances = [
            ServerProcess(
                ["serve", "--workers", str(WORKERS)], env=env, log=directory / f"instance-{n}.log"
            )
            for n, env in enumerate(self._environments)
        ]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._nginx: subprocess.Popen[bytes] | None = None
        self._teardown = contextlib.ExitStack()

    def __enter__(self) -> "Fleet":
        with contextlib.ExitStack() as started:  # on a failed start, what started is stopped
            started.callback(self.redis.stop)
            self.redis.start()
            for process in (self.simulator, *self.instances):
                started.callback(_stop_if_running, process)
                process.start()
            started.callback(self._stop_nginx)
            self._start_nginx()
            self._teardown = started.pop_all()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop everything, whatever state a test left it in (killed instances, Redis stopped);
        one part failing to stop does not keep the others running."""
        self._teardown.close()

    def restart_all(self, **settings: str) -> None:
        """Stop every instance (SIGTERM), then start them again, with `settings` changed (until
        the next restart_all)."""
        for instance in self.instances:
            _stop_if_running(instance)
        for instance, env in zip(self.instances, self._environments, strict=True):
            instance.start({**env, **settings})

    def served(self, text: str, total: int) -> list[int]:
        """How many of the `total` requests with `text` in their access-log line (path and
        query) each instance answered, in the order of `instances`."""
        deadline = time.monotonic() + 10  # each access log is written by a thread of its own
        while True:
            counts = [
                sum(text in line for line in instance.log_text().splitlines())
                for instance in self.instances
            ]
            if sum(counts) >= total or time.monotonic() > deadline:
                return counts
            time.sleep(0.1)

    def flush_redis(self) -> None:
        """Forget what the fleet shares in Redis (Kard tokens, seen notifications, rate-limit
        counts). Refused while an outbox still holds accepted work: a flush would lose it."""
        client = redis.Redis.from_url(self.redis.url)
        queued = {key: client.zcard(key) for key in (ATTRIBUTIONS_DUE, NOTIFICATIONS_DUE)}
        assert not any(queued.values()), f"accepted work is still queued: {queued}"
        client.flushall()

    def session_token(self, user_id: str) -> str:
        """An app session token every instance accepts (hs256)."""
        claims = {"sub": user_id, "exp": int(time.time()) + 3600}
        return jwt.encode(claims, JWT_SECRET, algorithm="HS256")

    def headers(self, user_id: str) -> dict[str, str]:
        """The headers of a request of `user_id`, whom Kard has enrolled."""
        self.control("POST", "users", json={"userId": user_id})
        return {"Authorization": f"Bearer {self.session_token(user_id)}"}

    def control(self, method: str, path: str, **kwargs) -> httpx.Response:
        """A call to the simulator's control API (`/_sandbox/...`)."""
        response = httpx.request(method, f"{self.kard_url}/_sandbox/{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response

    def calls(self, path_regex: str = "") -> list[dict]:
        """The simulator's call log, the calls whose path matches `path_regex`."""
        calls = self.control("GET", "calls").json()["data"]
        return [call for call in calls if re.search(path_regex, call["path"])]

    def reset(self) -> None:
        """Kard's state, faults and call log cleared; the fleet's shared state kept."""
        self.control("POST", "reset")

    def _start_nginx(self) -> None:
        upstreams = "".join(f"    server 127.0.0.1:{i.port};\n" for i in self.instances)
        site = re.sub(r"(    server 127\.0\.0\.1:\d+;\n)+", upstreams, NGINX_CONF.read_text())
        site = site.replace("listen 8080;", f"listen 127.0.0.1:{self.port};")
        (self.directory / "kard-bff.conf").write_text(site)
        (self.directory / "nginx.conf").write_text(
            "worker_processes 2;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "    access_log off;\n"
            "    client_body_temp_path temp/body;\n"
            "    proxy_temp_path temp/proxy;\n"
            "    fastcgi_temp_path temp/fastcgi;\n"
            "    uwsgi_temp_path temp/uwsgi;\n"
            "    scgi_temp_path temp/scgi;\n"
            "    include kard-bff.conf;\n"
            "}\n"
        )
        (self.directory / "temp").mkdir(exist_ok=True)
        (self.directory / "temp").chmod(0o777)
        prefix = f"{self.directory}/"
        self._nginx = subprocess.Popen(
            [
                str(NGINX),
                "-p",
                prefix,
                "-c",
                "nginx.conf",
                "-e",
                "nginx-error.log",
                "-g",
                f"daemon off; pid {prefix}nginx.pid;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers and it, one process group to stop
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self._nginx.poll() is not None or time.monotonic() > deadline:
                log = self.directory / "nginx-error.log"
                raise AssertionError(
                    f"nginx did not start: {log.read_text() if log.exists() else ''}"
                )
            time.sleep(0.1)

    def _stop_nginx(self) -> None:
        if self._nginx is None:
            return
        try:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._nginx.pid, signal.SIGTERM)  # nginx's fast shutdown
            self._nginx.wait(timeout=20)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._nginx.pid, signal.SIGKILL)
            self._nginx.wait()
            self._nginx = None


def _stop_if_running(process: ServerProcess) -> None:
    """Stop a server unless a test already killed or stopped it."""
    if process.running:
        process.stop()


def signed_notification(notification_id: str) -> tuple[bytes, dict[str, str]]:
    """A Kard notification signed as Kard signs it for the fleet, and its request headers."""
    body = json.dumps(
        {
            "data": {
                "type": "fileProcessingResult",
                "id": notification_id,
                "attributes": {
                    "fileName": "f.jsonl",
                    "sentAt": "2026-12-01T10:00:00Z",
                    "lastModified": "2026-12-01T10:00:00Z",
                    "downloadUrl": "https://example.com/results.json",
                },
            },
            "meta": {"issuerId": "org-sandbox", "issuerName": "Sandbox Issuer"},
        },
        separators=(",", ":"),
    ).encode()
    return body, {"Content-Type": "application/json", "notify-signature": sign(WEBHOOK_KEY, body)}


def _environment() -> dict[str, str]:
    """The test process's environment without any BFF setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("KARD_", "BFF_", "REDIS_"))}
