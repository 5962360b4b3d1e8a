# SPDX-License-Identifier: Apache-2.0
"""Getting the aggregate's bytes (ekn_saml.metadata.fetch): https only (loopback http in tests), no downgrade."""

from __future__ import annotations

import dataclasses
import http.server
import threading

import pytest

from ekn_saml.errors import MetadataError
from ekn_saml.metadata.fetch import read_source

from federation_cases import make
from metadata_factory import signed


class _Handler(http.server.BaseHTTPRequestHandler):
    body = b""
    status = 200
    redirect_to = None

    def do_GET(self):
        if self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.end_headers()
            return
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_source():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), type("H", (_Handler,), {}))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


class TestHttpSource:
    def test_loopback_http_source_is_fetched_when_testing(self, fed_settings, fed_signer, sveleg, http_source):
        http_source.RequestHandlerClass.body = signed(sveleg, fed_signer[0])
        url = f"http://127.0.0.1:{http_source.server_port}/md.xml"
        fed = make(dataclasses.replace(fed_settings, metadata_url=url, allow_loopback_http=True))
        assert fed.load_initial().origin == "source"

    def test_plain_http_is_refused_outside_tests(self, fed_settings, http_source):
        url = f"http://127.0.0.1:{http_source.server_port}/md.xml"
        with pytest.raises(MetadataError):
            read_source(dataclasses.replace(fed_settings, metadata_url=url))

    def test_oversized_download_is_refused(self, fed_settings, http_source):
        http_source.RequestHandlerClass.body = b"x" * (70 * 1024)
        url = f"http://127.0.0.1:{http_source.server_port}/md.xml"
        with pytest.raises(MetadataError) as info:
            read_source(
                dataclasses.replace(fed_settings, metadata_url=url, allow_loopback_http=True, max_bytes=64 * 1024)
            )
        assert "max_bytes" in info.value.detail

    def test_unreachable_server_is_a_metadata_error(self, fed_settings):
        url = "http://127.0.0.1:9/md.xml"  # discard port: nothing listens
        with pytest.raises(MetadataError):
            read_source(dataclasses.replace(fed_settings, metadata_url=url, allow_loopback_http=True, timeout=2))

    def test_http_error_status_is_a_metadata_error(self, fed_settings, http_source):
        url = f"http://127.0.0.1:{http_source.server_port}/missing.xml"
        http_source.RequestHandlerClass.status = 404
        with pytest.raises(MetadataError) as info:
            read_source(dataclasses.replace(fed_settings, metadata_url=url, allow_loopback_http=True))
        assert "HTTP 404" in info.value.detail

    def test_redirect_to_a_weaker_scheme_is_refused(self, fed_settings, http_source):
        http_source.RequestHandlerClass.redirect_to = "ftp://example.test/md.xml"
        url = f"http://127.0.0.1:{http_source.server_port}/md.xml"
        with pytest.raises(MetadataError):
            read_source(dataclasses.replace(fed_settings, metadata_url=url, allow_loopback_http=True))
