# SPDX-License-Identifier: Apache-2.0
"""Metadata: the IdPs we trust (:mod:`.idp`) and the SP metadata we publish (:mod:`.sp`)."""
