# SPDX-License-Identifier: Apache-2.0
"""What a request can put in the operator's log: one line per record, whatever the message says."""

from __future__ import annotations

import base64
import logging

from attacks.fixtures import browser, make_corpus_app

FORGED_LINE = "2026-12-03 10:00:00,000 INFO  [ekn_saml] login ok method=bankid subject=pnr:19800101-XXXX"


def test_a_namespace_with_a_line_break_cannot_forge_a_log_line(corpus_settings, caplog):
    """A review planted an audit-looking line through &#10; in a namespace URI: libxml2 refuses the URI and its
    message, which quotes it, reached the log in the error detail.  Now neither the message nor a raw
    control character reaches a log line."""
    message = f'<x:Response xmlns:x="urn:a&#10;{FORGED_LINE}" ID="_r1" Version="2.0"/>'.encode()
    client = browser(make_corpus_app(corpus_settings))
    with caplog.at_level(logging.DEBUG, logger="ekn_saml"):
        response = client.post(
            "/saml/acs", params={"SAMLResponse": base64.b64encode(message).decode()}, expect_errors=True
        )
    assert response.status_int == 400 and "EKN-IN-004" in response.text
    ours = [r for r in caplog.records if r.name.startswith("ekn_saml")]
    assert any("EKN-IN-004" in r.getMessage() for r in ours)
    assert not [r.getMessage() for r in ours if "\n" in r.getMessage() or "\r" in r.getMessage()]
