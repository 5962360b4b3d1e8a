# SPDX-License-Identifier: Apache-2.0
"""The one place the version is written: setup.py reads it, ``ekn_saml.__version__`` is it."""

__version__ = "0.2.0.dev0"
