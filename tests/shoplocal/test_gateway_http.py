"""serve(): the HTTP API emulation over real HTTP/1.1 sockets (keep-alive, concurrency, limits, header mapping)."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from shoplocal.gateway import MAX_BODY, CorsConfig, Gateway, GatewayServer, Route, serve

pytestmark = pytest.mark.unit

PNG = b"\x89PNG\r\n\x1a\n\x00\xff\xfe"
SHOP = "http://localhost:5173"


class Echo:
    def __init__(self) -> None:
        self.threads: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.threads.append(threading.get_ident())
        if function == "Slow":
            time.sleep(0.05)
        if function == "Binary":
            return {"statusCode": 200, "headers": {"Content-Type": "image/png"},
                    "body": base64.b64encode(PNG).decode(), "isBase64Encoded": True}
        if function == "Cookies":
            return {"statusCode": 200, "multiValueHeaders": {"Set-Cookie": ["a=1; Path=/", "b=2; Path=/"]},
                    "body": ""}
        if function == "Boom":
            raise RuntimeError("handler failed")
        body = {"function": function, "path": event["path"], "pathParameters": event["pathParameters"],
                "query": event["multiValueQueryStringParameters"], "body": event["body"],
                "isBase64Encoded": event["isBase64Encoded"], "headers": event["multiValueHeaders"],
                "sourceIp": event["requestContext"]["identity"]["sourceIp"]}
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


@pytest.fixture(scope="module")
def echo() -> Echo:
    return Echo()


@pytest.fixture(scope="module")
def server(echo) -> Iterator[GatewayServer]:
    routes = [Route("GET", "/items/{itemId}", "Item", "NONE"), Route("POST", "/items", "Create", "NONE"),
              Route("GET", "/slow/{n}", "Slow", "NONE"), Route("GET", "/binary", "Binary", "NONE"),
              Route("GET", "/cookies", "Cookies", "NONE"), Route("GET", "/boom", "Boom", "NONE"),
              Route("GET", "/private", "Private", "JWT")]
    cors = CorsConfig(allow_origins=(SHOP,), allow_headers=("Content-Type", "Authorization"),
                      allow_methods=("GET", "POST", "OPTIONS"))
    gw = Gateway(routes, echo, None, cors=cors)
    srv = serve(gw, "127.0.0.1", 0)
    yield srv
    srv.shutdown()


def test_url_and_port(server):
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"


def test_get_with_path_params_and_multi_value_query(server):
    resp = requests.get(f"{server.url}/items/it%20em-1", params=[("tag", "a"), ("tag", "b"), ("q", "x y")], timeout=5)
    assert resp.status_code == 200
    data = resp.json()
    assert data["pathParameters"] == {"itemId": "it em-1"}
    assert data["query"] == {"tag": ["a", "b"], "q": ["x y"]}
    assert data["sourceIp"] == "127.0.0.1"
    assert "Access-Control-Allow-Origin" not in resp.headers  # no Origin: no CORS header
    assert resp.headers["apigw-requestid"]
    from_shop = requests.get(f"{server.url}/items/1", headers={"Origin": SHOP}, timeout=5)
    assert from_shop.headers["Access-Control-Allow-Origin"] == SHOP


def test_post_json_and_chunked_bodies(server):
    resp = requests.post(f"{server.url}/items", json={"name": "Mug", "price": {"amount": 1299, "currency": "EUR"}},
                         timeout=5)
    assert json.loads(resp.json()["body"]) == {"name": "Mug", "price": {"amount": 1299, "currency": "EUR"}}
    chunked = requests.post(f"{server.url}/items", data=(part for part in [b'{"a":', b' 1}']), timeout=5)
    assert chunked.status_code == 200
    assert chunked.json()["body"] == '{"a": 1}'
    binary = requests.post(f"{server.url}/items", data=PNG, timeout=5).json()
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == PNG


def test_duplicate_request_headers_become_multi_value_headers(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.putrequest("GET", "/items/1")
        conn.putheader("X-Dup", "one")
        conn.putheader("X-Dup", "two")
        conn.endheaders()
        data = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    assert data["headers"]["x-dup"] == ["one", "two"]  # an HTTP API lower-cases header names


def test_binary_response_and_multi_value_set_cookie(server):
    resp = requests.get(f"{server.url}/binary", timeout=5)
    assert resp.content == PNG
    assert resp.headers["Content-Type"] == "image/png"
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", "/cookies")
        raw = conn.getresponse()
        raw.read()
        assert raw.msg.get_all("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    finally:
        conn.close()


def test_gateway_errors_over_http(server):
    missing = requests.get(f"{server.url}/nope", timeout=5)
    assert missing.status_code == 404 and missing.json() == {"message": "Not Found"}
    boom = requests.get(f"{server.url}/boom", headers={"Origin": SHOP}, timeout=5)
    assert boom.status_code == 500 and boom.json() == {"message": "Internal Server Error"}
    assert "Access-Control-Allow-Origin" not in boom.headers  # the gateway's own answer
    private = requests.get(f"{server.url}/private", timeout=5)
    assert private.status_code == 500  # no authorizer configured: closed, never open


def test_preflight_and_head(server):
    pre = requests.options(f"{server.url}/items/1", headers={"Origin": SHOP,
                                                             "Access-Control-Request-Method": "GET"}, timeout=5)
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
    assert pre.headers["Access-Control-Allow-Origin"] == SHOP
    assert pre.content == b""
    refused = requests.options(f"{server.url}/items/1", headers={"Origin": "https://evil.example",
                                                                 "Access-Control-Request-Method": "GET"}, timeout=5)
    assert refused.status_code == 204 and "Access-Control-Allow-Origin" not in refused.headers
    head = requests.head(f"{server.url}/items/1", timeout=5)
    assert head.status_code == 404  # no HEAD route
    assert head.content == b""


def test_body_over_10_mb_is_413_without_reading_it(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        # headers only: the server must answer from Content-Length alone, before any body arrives
        sock.sendall(f"POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    status_line = data.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 413")
    assert b'{"message": "Request Entity Too Large"}' in data


def test_invalid_content_length_is_400(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):  # the server closes the connection after this answer
            data += chunk
    assert data.startswith(b"HTTP/1.1 400")
    assert data.endswith(b'{"message": "Bad Request"}')


def test_keep_alive_reuses_one_connection(server, echo):
    with requests.Session() as session:
        before = len(echo.threads)
        for i in range(10):
            assert session.get(f"{server.url}/items/{i}", timeout=5).json()["pathParameters"] == {"itemId": str(i)}
        threads = echo.threads[before:]
    assert len(threads) == 10
    assert len(set(threads)) == 1  # one connection -> one server thread


def test_150_parallel_requests(server):
    def call(i: int) -> tuple[int, Any]:
        resp = requests.get(f"{server.url}/slow/{i}", params={"i": str(i)}, timeout=30)
        return resp.status_code, resp.json()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=150) as pool:
        results = list(pool.map(call, range(150)))
    elapsed = time.monotonic() - started
    assert [status for status, _ in results] == [200] * 150
    assert [body["pathParameters"]["n"] for _, body in results] == [str(i) for i in range(150)]
    assert [body["query"]["i"] for _, body in results] == [[str(i)] for i in range(150)]
    assert elapsed < 20  # 150 x 50 ms handlers served concurrently, not one after another


def test_shutdown_stops_serving_new_and_kept_alive_connections(echo):
    srv = serve(Gateway([Route("GET", "/x", "Item", "NONE")], echo, None))
    url = srv.url
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        conn.request("GET", "/x")
        first = conn.getresponse()
        first.read()
        assert first.status == 200
        srv.shutdown()
        with pytest.raises((http.client.HTTPException, OSError)):
            conn.request("GET", "/x")
            conn.getresponse().read()
    finally:
        conn.close()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/x", timeout=2)
