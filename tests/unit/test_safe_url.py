# SPDX-License-Identifier: Apache-2.0
import pytest

from ekn_saml.safe_url import is_safe_local_path


@pytest.mark.parametrize("target", ["/", "/mina-sidor", "/mina-sidor?tab=2&x=%2F", "/a/b/c#frag"])
def test_local_paths_are_safe(target):
    assert is_safe_local_path(target)


@pytest.mark.parametrize(
    "target",
    [
        "",
        None,
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https:%5c%5cevil.example",
        "/%5cevil.example",
        "/%2F%2Fevil.example",
        "/%252F%252Fevil.example",
        "https://evil.example/",
        "http://sp.example.test/mina-sidor",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "mina-sidor",
        "/\t/evil.example",
        "/\n/evil.example",
        " /mina-sidor",
        "/" + "a" * 2001,
    ],
)
def test_unsafe_targets_are_refused(target):
    assert not is_safe_local_path(target)
