"""A tiny in-memory Hugging Face Hub on 127.0.0.1 for upload/download round trips in tests.

It speaks the part of the Hub HTTP API that ``huggingface_hub`` 2.x uses for ``create_repo`` + ``upload_folder`` /
``create_commit`` and for ``hf_hub_download`` / ``from_pretrained``:

* ``GET /api/agent-harnesses``: an empty registry (the client asks it once to describe itself in its user agent).
* ``POST /api/repos/create``: new model repo (409 when it exists, which ``exist_ok=True`` accepts).
* ``POST /api/validate-yaml``: parses the README front matter (400 with the parser message when it is not YAML).
* ``POST /api/models/{repo}/preupload/{revision}``: every file is a *regular* upload (no LFS / Xet negotiation),
  so the commit carries the contents base64-encoded.
* ``POST /api/models/{repo}/commit/{revision}``: the NDJSON commit (header, ``file``, ``deletedFile``,
  ``deletedFolder``); an ``lfsFile`` line is refused since no LFS upload was offered.
* ``GET /api/models/{repo}`` and ``/api/models/{repo}/revision/{revision}``: repo info with ``sha`` and ``siblings``.
* ``GET /api/models/{repo}/tree/{revision}[/{folder}]``: file listing (404 ``EntryNotFound`` for a missing folder).
* ``HEAD``/``GET /{repo}/resolve/{revision}/{path}``: file metadata and content, with the headers
  ``hf_hub_download`` checks (``X-Repo-Commit``, ``ETag``, ``Content-Length``); missing things get the Hub's
  ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``).

Writes need ``Authorization: Bearer <token>``. Any other request is answered 501 and recorded in
``HubServer.unhandled`` so a test can show exactly what the client asked for. The server listens only between
``start()`` and ``stop()`` (use it as a context manager).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

DEFAULT_BRANCH = "main"
DEFAULT_NAMESPACE = "tester"


@dataclass
class Repository:
    """One model repo: the files of every commit and the history of ``main`` (newest last)."""

    snapshots: dict[str, dict[str, bytes]] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def head(self) -> str:
        """The commit the ``main`` branch points to (an initial empty commit for a new repo)."""
        return self.commits[-1]

    @property
    def files(self) -> dict[str, bytes]:
        """The files of the head commit."""
        return self.snapshots[self.head]

    def at(self, revision: str) -> dict[str, bytes]:
        """The files of ``main`` or of a commit id."""
        return self.files if revision == DEFAULT_BRANCH else self.snapshots[revision]


def git_blob_sha(content: bytes) -> str:
    """The git object id of a file (what the Hub reports as a regular file's ETag / oid)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


class HubServer:
    """In-memory Hub; ``endpoint`` is what ``HF_ENDPOINT`` should be set to.

    Args:
        token: The bearer token writes must carry.
    """

    def __init__(self, token: str = "test-token") -> None:
        self.token = token
        self.repositories: dict[str, Repository] = {}
        self.requests: list[str] = []
        self.unhandled: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:<port>`` of the running server."""
        if self._server is None:
            raise RuntimeError("HubServer is not running; call start() first.")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HubServer:
        """Listen on a free port of 127.0.0.1 in a daemon thread."""
        hub = self

        class Handler(_HubRequestHandler):
            server_hub = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="hub-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and wait for the serving thread."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ state
    def create(self, repo_id: str) -> bool:
        """Create an empty repo; False when it already exists."""
        with self._lock:
            if repo_id in self.repositories:
                return False
            repository = Repository()
            self._commit(repository, {}, "initial commit")
            self.repositories[repo_id] = repository
            return True

    def file(self, repo_id: str, path: str) -> bytes:
        """A file of a repo's head commit (KeyError when absent)."""
        return self.repositories[repo_id].files[path]

    def _commit(self, repository: Repository, files: dict[str, bytes], message: str) -> str:
        parent = repository.commits[-1] if repository.commits else ""
        digest = hashlib.sha1(parent.encode() + message.encode())
        for path in sorted(files):
            digest.update(path.encode() + b"\0" + files[path])
        repository.snapshots[digest.hexdigest()] = files
        repository.commits.append(digest.hexdigest())
        repository.messages.append(message)
        return repository.head


class _HubRequestHandler(BaseHTTPRequestHandler):
    server_hub: HubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass  # requests are recorded in HubServer.requests instead of stderr

    # ------------------------------------------------------------------ routing
    def do_HEAD(self) -> None:  # noqa: N802 - http.server naming
        self._route("HEAD")

    def do_GET(self) -> None:  # noqa: N802
        self._route("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST")

    def _route(self, method: str) -> None:
        hub = self.server_hub
        path = unquote(urlsplit(self.path).path)
        hub.requests.append(f"{method} {path}")
        body = self._read_body()
        routes = [
            ("GET", r"/api/agent-harnesses", self._agent_harnesses),
            ("POST", r"/api/repos/create", self._create_repo),
            ("POST", r"/api/validate-yaml", self._validate_yaml),
            ("POST", r"/api/models/(?P<repo>[^/]+/[^/]+)/preupload/(?P<revision>[^/]+)", self._preupload),
            ("POST", r"/api/models/(?P<repo>[^/]+/[^/]+)/commit/(?P<revision>[^/]+)", self._commit),
            ("GET", r"/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<revision>[^/]+))?", self._repo_info),
            ("GET", r"/api/models/(?P<repo>[^/]+/[^/]+)/tree/(?P<revision>[^/]+)(?:/(?P<folder>.+))?", self._tree),
            ("HEAD", r"/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<file>.+)", self._resolve),
            ("GET", r"/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<file>.+)", self._resolve),
        ]
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                handler(method=method, body=body, **match.groupdict())
                return
        hub.unhandled.append(f"{method} {path}")
        self._json(501, {"error": f"the test hub does not implement {method} {path}"})

    # ------------------------------------------------------------------ endpoints
    def _agent_harnesses(self, method: str, body: bytes) -> None:
        self._json(200, {"standardEnvVars": [], "harnesses": {}})  # the client's "detect no agent" registry

    def _create_repo(self, method: str, body: bytes) -> None:
        if not self._authorized():
            return
        payload = json.loads(body)
        repo_id = f"{payload.get('organization') or DEFAULT_NAMESPACE}/{payload['name']}"
        if payload.get("type", "model") not in ("model", None):
            self._json(400, {"error": "the test hub only hosts model repos"})
        elif self.server_hub.create(repo_id):
            self._json(200, {"url": f"{self.server_hub.endpoint}/{repo_id}", "name": repo_id, "id": repo_id})
        else:
            self._json(409, {"error": "You already created this model repo",
                             "url": f"{self.server_hub.endpoint}/{repo_id}"})

    def _validate_yaml(self, method: str, body: bytes) -> None:
        content = json.loads(body)["content"]
        match = re.match(r"^---\n(.*?)\n---\n", content, flags=re.DOTALL)
        try:
            metadata = yaml.safe_load(match.group(1)) if match else {}
        except yaml.YAMLError as error:
            self._json(400, {"errors": [{"message": f"README.md front matter is not YAML: {error}"}]})
            return
        if metadata is not None and not isinstance(metadata, dict):
            self._json(400, {"errors": [{"message": "README.md front matter must be a mapping"}]})
            return
        self._json(200, {"errors": [], "warnings": []})

    def _preupload(self, method: str, body: bytes, repo: str, revision: str) -> None:
        if not self._authorized() or not self._repository(repo) or not self._revision(repo, revision):
            return
        files = json.loads(body)["files"]
        self._json(200, {"files": [{"path": item["path"], "uploadMode": "regular", "shouldIgnore": False}
                                   for item in files]})

    def _commit(self, method: str, body: bytes, repo: str, revision: str) -> None:
        if not self._authorized() or not self._repository(repo) or not self._revision(repo, revision):
            return
        repository = self.server_hub.repositories[repo]
        if revision != DEFAULT_BRANCH:
            self._json(400, {"error": "the test hub commits to main only"})
            return
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            self._json(400, {"error": "a commit starts with its header line"})
            return
        files = dict(repository.files)
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            if key == "file":
                files[value["path"]] = base64.b64decode(value["content"])
            elif key == "deletedFile":
                files.pop(value["path"], None)
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                files = {path: content for path, content in files.items() if not path.startswith(prefix)}
            else:
                self._json(400, {"error": f"the test hub accepts regular uploads only, got {key!r}"})
                return
        with self.server_hub._lock:
            oid = self.server_hub._commit(repository, files, lines[0]["value"]["summary"])
        self._json(200, {"commitUrl": f"{self.server_hub.endpoint}/{repo}/commit/{oid}", "commitOid": oid,
                         "pullRequestUrl": None})

    def _repo_info(self, method: str, body: bytes, repo: str, revision: str | None) -> None:
        if not self._repository(repo) or not self._revision(repo, revision or DEFAULT_BRANCH):
            return
        repository = self.server_hub.repositories[repo]
        revision = revision or DEFAULT_BRANCH
        sha = repository.head if revision == DEFAULT_BRANCH else revision
        self._json(200, {
            "id": repo, "modelId": repo, "sha": sha, "private": False, "disabled": False,
            "gated": False, "tags": [], "downloads": 0, "likes": 0, "library_name": "transformers",
            "siblings": [{"rfilename": path, "size": len(content)}
                         for path, content in sorted(repository.at(revision).items())],
        })

    def _tree(self, method: str, body: bytes, repo: str, revision: str, folder: str | None) -> None:
        if not self._repository(repo) or not self._revision(repo, revision):
            return
        prefix = f"{folder.rstrip('/')}/" if folder else ""
        files = {path: content for path, content in self.server_hub.repositories[repo].at(revision).items()
                 if path.startswith(prefix)}
        if folder and not files:
            self._error(404, "EntryNotFound", f"{folder} does not exist in {repo}")
            return
        entries, folders = [], set()
        for path, content in sorted(files.items()):
            rest = path[len(prefix):]
            if "/" in rest:
                folders.add(prefix + rest.split("/")[0])
            else:
                entries.append({"type": "file", "path": path, "size": len(content), "oid": git_blob_sha(content)})
        entries += [{"type": "directory", "path": name, "oid": "0" * 40, "size": 0} for name in sorted(folders)]
        self._json(200, entries)

    def _resolve(self, method: str, body: bytes, repo: str, revision: str, file: str) -> None:
        if not self._repository(repo) or not self._revision(repo, revision):
            return
        repository = self.server_hub.repositories[repo]
        files = repository.at(revision)
        if file not in files:
            self._error(404, "EntryNotFound", f"{file} does not exist in {repo}@{revision}")
            return
        content = files[file]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(content)))
        self.send_header("ETag", f'"{git_blob_sha(content)}"')
        self.send_header("X-Repo-Commit", repository.head if revision == DEFAULT_BRANCH else revision)
        self.end_headers()
        if method == "GET":
            self.wfile.write(content)

    # ------------------------------------------------------------------ helpers
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.server_hub.token}":
            return True
        self._json(401, {"error": "Invalid credentials in Authorization header"})
        return False

    def _repository(self, repo: str) -> bool:
        if repo in self.server_hub.repositories:
            return True
        self._error(404, "RepoNotFound", f"Repository {repo} not found")
        return False

    def _revision(self, repo: str, revision: str) -> bool:
        if revision in (DEFAULT_BRANCH, *self.server_hub.repositories[repo].commits):
            return True
        self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return False

    def _error(self, status: int, code: str, message: str) -> None:
        self._json(status, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message})

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
