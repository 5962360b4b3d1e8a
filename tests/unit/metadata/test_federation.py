# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.metadata.federation keeps every name it had before the split into fetch, aggregate and refresher."""

from __future__ import annotations

import pytest

from ekn_saml.metadata import aggregate, federation, fetch, refresher


@pytest.mark.parametrize(
    "module, name",
    [
        (aggregate, "verify_and_index"),
        (aggregate, "FederationIdps"),
        (aggregate, "MetadataDocument"),
        (aggregate, "Publication"),
        (aggregate, "parse_duration"),
        (fetch, "read_source"),
        (fetch, "write_atomically"),
        (fetch, "load_signers"),
        (refresher, "FederationMetadata"),
    ],
)
def test_a_name_of_the_federation_module_is_the_one_of_its_new_home(module, name):
    assert getattr(federation, name) is getattr(module, name)
