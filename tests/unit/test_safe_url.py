# SPDX-License-Identifier: Apache-2.0
import pytest

from ekn_saml.safe_url import MAX_NEXT_PATH, is_acceptable_next, is_safe_local_path


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


# --- the next of a login start: also at most MAX_NEXT_PATH characters ---------------------


def test_a_next_of_the_longest_length_is_acceptable():
    assert is_acceptable_next("/" + "a" * (MAX_NEXT_PATH - 1))


def test_a_next_one_character_longer_is_not():
    # stored with every anonymous login start, so well below what is_safe_local_path takes
    assert not is_acceptable_next("/" + "a" * MAX_NEXT_PATH)


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", None, ""])
def test_an_unsafe_next_is_not_acceptable(target):
    assert not is_acceptable_next(target)
