# SPDX-License-Identifier: Apache-2.0
"""Benchmarks of ekn_saml (see bench/README.md); not part of the installed package."""
