# SPDX-License-Identifier: Apache-2.0
"""Metadata: the IdPs we trust (:mod:`.idp`), the SP metadata we publish (:mod:`.sp`), and signed federation
metadata: fetched (:mod:`.fetch`), verified and indexed (:mod:`.aggregate`), kept fresh (:mod:`.refresher`),
attached to the app (:mod:`.federation`)."""
