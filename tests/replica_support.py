"""Running the deployment guide's nginx configuration (`deploy/nginx.conf`) for real.

The guide's file is used as written; only what differs on a test machine is substituted, each
substitution checked to apply exactly once (so a change of the file breaks the test loudly
instead of silently testing something else): the replica addresses, the two listen ports (on
loopback) and the certificate paths (a throwaway self-signed certificate, so the `Secure`
affinity cookie and HTTP/2 work as in production). A small main configuration around it keeps
everything nginx writes (pid, logs, temp files) in the test's own directory, so it needs no
root and touches nothing of the system's nginx.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.browser_support import REPO_ROOT, free_loopback_port

GUIDE_CONF = REPO_ROOT / "deploy" / "nginx.conf"
NGINX_SEARCH = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
STARTUP_TIMEOUT_S = 15.0
# One access-log line per request: the affinity key, the replica that answered, the request.
LOG_FORMAT = 'route \'$ecc_route $upstream_addr $status "$request_method $request_uri"\''


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return next((path for path in NGINX_SEARCH if Path(path).is_file()), None)


def substitute_once(text: str, old: str, new: str) -> str:
    count = text.count(old)
    if count != 1:
        raise AssertionError(f"deploy/nginx.conf: expected {old!r} once, found it {count} times")
    return text.replace(old, new)


@dataclass(frozen=True)
class Ports:
    replicas: tuple[int, int]
    http: int
    https: int


def adapted_config(guide: str, ports: Ports, cert: Path, key: Path) -> str:
    """The guide's configuration with loopback ports and test certificate paths."""
    text = guide
    text = substitute_once(text, "server 10.0.0.11:8501", f"server 127.0.0.1:{ports.replicas[0]}")
    text = substitute_once(text, "server 10.0.0.12:8501", f"server 127.0.0.1:{ports.replicas[1]}")
    text = substitute_once(text, "listen 80;", f"listen 127.0.0.1:{ports.http};")
    text = substitute_once(text, "listen 443 ssl http2;",
                           f"listen 127.0.0.1:{ports.https} ssl http2;")
    text = substitute_once(text, "/etc/ssl/certs/console.example.com.fullchain.pem", str(cert))
    text = substitute_once(text, "/etc/ssl/private/console.example.com.key", str(key))
    return text


def main_config(workdir: Path, site: Path) -> str:
    """nginx's main file for the test: everything it writes stays in `workdir`."""
    temp = {name: workdir / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    return f"""
daemon off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log info;
events {{ worker_connections 512; }}
http {{
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    # Run as root, the workers switch to an unprivileged user that cannot write to this
    # directory; never buffering responses to temp files keeps that from mattering.
    proxy_max_temp_file_size 0;
    log_format {LOG_FORMAT};
    access_log {workdir}/access.log route;
    include {site};
}}
"""


def self_signed_certificate(workdir: Path) -> tuple[Path, Path]:
    cert, key = workdir / "localhost.pem", workdir / "localhost.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@dataclass(frozen=True)
class LogLine:
    route: str
    upstream: str
    status: str
    request: str


@dataclass
class NginxProxy:
    """One nginx master (foreground, own process group) serving the adapted guide config."""

    binary: str
    workdir: Path
    conf: Path
    ports: Ports
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def prepare(cls, binary: str, workdir: Path, replica_ports: tuple[int, int]) -> NginxProxy:
        workdir.mkdir(parents=True, exist_ok=True)
        ports = Ports(replica_ports, free_loopback_port(), free_loopback_port())
        cert, key = self_signed_certificate(workdir)
        site = workdir / "ecc.conf"
        site.write_text(adapted_config(GUIDE_CONF.read_text(), ports, cert, key))
        conf = workdir / "nginx.conf"
        conf.write_text(main_config(workdir, site))
        return cls(binary, workdir, conf, ports)

    def command(self, *extra: str) -> list[str]:
        # -e: the error log before the configuration is read (else /var/log/nginx/error.log).
        return [self.binary, "-p", str(self.workdir), "-c", str(self.conf),
                "-e", str(self.workdir / "error.log"), *extra]

    def check(self) -> subprocess.CompletedProcess[str]:
        """`nginx -t` on the adapted configuration."""
        return subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)

    def start(self) -> None:
        with (self.workdir / "nginx.out").open("wb") as out:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # master and workers in one group: stop() ends both
            )
        try:
            self._wait_until_it_answers()
        except BaseException:
            self.stop()
            raise

    def _wait_until_it_answers(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"nginx exited with {self.process.returncode}:\n"
                                     f"{self.error_log()[-3000:]}")
            if self._answers():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"nginx did not answer within {STARTUP_TIMEOUT_S:g} s")
            time.sleep(0.05)  # poll interval of a bounded wait

    def _answers(self) -> bool:
        """True once the redirect server answers (it never touches a replica)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.ports.http, timeout=1)
        try:
            connection.request("GET", "/")
            return connection.getresponse().status == 301
        except OSError:
            return False
        finally:
            connection.close()

    @property
    def url(self) -> str:
        return f"https://localhost:{self.ports.https}/"

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def error_log(self) -> str:
        path = self.workdir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def access_log(self) -> list[LogLine]:
        path = self.workdir / "access.log"
        lines = []
        for raw in (path.read_text(errors="replace") if path.exists() else "").splitlines():
            match = re.match(r'(\S+) (.+?) (\d{3}) "(.*)"$', raw)
            if match:
                lines.append(LogLine(*match.groups()))
        return lines


@dataclass(frozen=True)
class ResponseHead:
    status: int
    headers: tuple[tuple[str, str], ...]  # in order, names lower-cased, repeats kept

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]


def https_response_head(port: int, host: str, path: str,
                        extra_headers: dict[str, str] | None = None) -> ResponseHead:
    """The status line and headers nginx answers one HTTP/1.1 GET over TLS with (the body is
    not read: a websocket handshake's 101 has none, and the connection is closed after)."""
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE  # the throwaway certificate
    request = {"Host": f"{host}:{port}", "Connection": "close", **(extra_headers or {})}
    lines = [f"GET {path} HTTP/1.1", *(f"{name}: {value}" for name, value in request.items())]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw, \
            tls.wrap_socket(raw, server_hostname=host) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers = tuple((name.strip().lower(), value.strip())
                    for name, value in (line.split(":", 1) for line in head[1:] if ":" in line))
    return ResponseHead(status, headers)
