# SPDX-License-Identifier: Apache-2.0
"""Several organisations in Chromium: an Expisoft login with two organisations goes through the picker."""

from __future__ import annotations

import pytest

from browser_flows import answer_at_idp, open_idp, url_re

pytestmark = pytest.mark.browser


def test_the_chosen_organisation_is_shown_on_mina_sidor(page, live_server):
    open_idp(page, live_server, "expisoft")
    answer_at_idp(page, "olga")
    page.wait_for_url(url_re(live_server.sp, "/choose-organisation", query=True))
    page.get_by_test_id("org-2021005489").check()
    page.get_by_test_id("choose").click()
    page.wait_for_url(live_server.url("/mina-sidor"))
    assert page.get_by_test_id("org-number").inner_text() == "2021005489"
