# SPDX-License-Identifier: Apache-2.0
"""What an operator's monitor reads: metadata freshness, certificate expiry, store health.

In the spirit of Shibboleth's Status handler.  The report holds no personal
data and no secrets (certificate fingerprints and subjects only).
:mod:`ekn_saml.views.status` serves it to configured client addresses only.
"""

from __future__ import annotations

import datetime as dt
import time

from .errors import ConfigurationError, SamlError
from .timeutil import format_instant
from .xmlsecurity import PublicKey


def cert_info(cert: PublicKey, now: dt.datetime) -> dict:
    """Subject, expiry and fingerprint of a certificate (expiry is informative: metadata certs are key containers)."""
    not_after = cert.cert.not_valid_after_utc
    return {
        "subject": cert.cert.subject.rfc4514_string(),
        "not_after": format_instant(not_after),
        "days_left": (not_after - now).days,
        "sha256": cert.sha256_fingerprint,
    }


def store_health(store) -> dict:
    """Ping the state store once; never raises."""
    started = time.perf_counter()
    try:
        store.ping()
    except SamlError as exc:
        return {"ok": False, "error": exc.code.value}
    except Exception as exc:  # noqa: BLE001 - a monitor must get an answer whatever the backend raised
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def _profile_certificates(sp, profile, now: dt.datetime) -> dict:
    """Expiry of one SP profile's certificates (signing, encryption, next signing) and its count of decryption keys."""
    from .metadata.sp import load_next_signing_cert

    creds = profile.credentials
    certs = {
        "signing": cert_info(creds.signing_cert, now),
        "encryption": cert_info(creds.encryption_cert, now),
        "decryption_keys": len(creds.decryption_keys),
    }
    try:
        following = load_next_signing_cert(sp.settings, profile.settings)
    except ConfigurationError:
        certs["next_signing"] = {"error": "unreadable"}
    else:
        if following is not None:
            certs["next_signing"] = cert_info(following, now)
    return certs


def health_report(sp, federation, now: dt.datetime) -> tuple[dict, bool]:
    """``(report, healthy)``: healthy unless the store is down or trusted federation metadata is missing or expired.

    ``methods`` lists each login method with ``available`` and, if not, the ``reason``
    (:meth:`ServiceProvider.method_problems`); an unavailable method makes the status ``degraded``.

    A failing refresh alone is reported (``degraded``) but keeps ``healthy``:
    the last good document still serves until its ``validUntil``.
    """
    profiles = [
        {"name": p.name, "entity_id": p.entity_id, "acs": p.acs_url, "certificates": _profile_certificates(sp, p, now)}
        for p in sp.profiles.values()
    ]
    store = store_health(sp.store)
    problems = sp.method_problems()
    methods = [
        {"name": m.name, "idp": m.idp_entity_id, "available": problems[m.name] is None, "reason": problems[m.name]}
        for m in sp.settings.methods
    ]
    report = {
        "time": format_instant(now),
        # the default SP profile's, as before there were several
        "entity_id": sp.settings.entity_id,
        "certificates": profiles[0]["certificates"],
        "sp_profiles": profiles,
        "store": store,
        # each login method, and why it is not offered (EC 1.3 matching, secure-authenticator-binding)
        "methods": methods,
    }
    # an unavailable method degrades the service; the others still log in
    healthy, degraded = store["ok"], not all(m["available"] for m in methods)
    if federation is not None:
        metadata = federation.status()
        metadata["signing_certificates"] = [cert_info(c, now) for c in federation.signers]
        report["federation_metadata"] = metadata
        healthy = healthy and metadata["loaded"] and not metadata.get("expired", True)
        degraded = degraded or metadata["consecutive_failures"] > 0 or bool(metadata["backing_file_error"])
    report["status"] = "failing" if not healthy else "degraded" if degraded else "ok"
    return report, healthy
