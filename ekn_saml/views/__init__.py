# SPDX-License-Identifier: Apache-2.0
"""Thin views: each reads the request, calls the ServiceProvider, renders or redirects."""
