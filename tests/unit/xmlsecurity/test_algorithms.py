# SPDX-License-Identifier: Apache-2.0
"""The algorithm lists (ekn_saml.xmlsecurity.algorithms) and the python-xmlsec they name transforms of."""

from __future__ import annotations

import xmlsec

from ekn_saml.xmlsecurity import algorithms


def test_xmlsec_is_the_one_python_xmlsec():
    assert algorithms.xmlsec is xmlsec


def test_every_data_encryption_name_has_one_algorithm_and_one_transform():
    # the settings name them without importing xmlsec (their problems show before it loads)
    from ekn_saml.settings import DATA_ENCRYPTIONS

    names = set(algorithms.DATA_ENCRYPTION_NAMES.values())
    assert names == set(DATA_ENCRYPTIONS) == set(algorithms.ENCRYPTION_TRANSFORMS)
    assert len(names) == len(algorithms.DATA_ENCRYPTION_ALGORITHMS)
