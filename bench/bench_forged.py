# SPDX-License-Identifier: Apache-2.0
"""What an anonymous POST can cost: forged Responses through the ACS, beside valid ones.

Each shape of tests/attacks/adversarial.py (the attack corpus's ``cost-*``
cases) is made from a bench Response (3072-bit keys), as large as the
SAMLResponse cap allows:

* the reported attack (a forged SignatureValue and ~17,000 sorted attributes
  on the root), namespaced attributes, namespace declarations, deep
  nesting, many Signature elements: refused by the node cap on the bytes;
* 1,500 attributes on one element, 300 namespace declarations, 200 levels
  of nesting, under the node cap: refused by the other caps after parsing;
* a forged SignatureValue from an IdP with six keys in metadata, its body
  grown to just under the node cap: six SignedInfo checks, no digest;
* a Response the IdP really signed, its body grown after signing: the one
  digest it gets fails; the most an attacker holding his own signed login
  can make the SP do.

Then, for N rounds, one valid Response (the (b) of bench_acs: the SP's whole
ACS check and identity mapping) and each forged one are timed through the
same call, interleaved, so that the machine's other work falls on all of
them.  Each forged one must be refused with its own code (checked, untimed).

    python -m bench.bench_forged [--rounds 100]

Reported: the median of each shape, the worst, and ``acs_forged_worst_ratio``
= worst forged median / valid median (goal: at most 2).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable

from lxml import etree

from ekn_saml.errors import ErrorCode, SamlError
from ekn_saml.xml_limits import MESSAGE_LIMITS

from .bench_acs import Ours, generate, summary
from .fixtures import MULTIKEY_IDP_ENTITY_ID, BenchKeys, bench_keys, build_response, new_request_id

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from attacks import adversarial

_SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"


def _signed(keys: BenchKeys) -> etree._Element:
    return etree.fromstring(build_response(keys, new_request_id()))


def _from_the_multikey_idp(keys: BenchKeys) -> etree._Element:
    root = _signed(keys)
    root.find(_SAML + "Issuer").text = MULTIKEY_IDP_ENTITY_ID
    return root


def shapes(cap: int) -> dict[str, tuple[Callable[[BenchKeys], bytes], ErrorCode]]:
    """name -> (builder of the posted XML, the code it must be refused with)."""
    near_cap = MESSAGE_LIMITS.max_nodes - 100
    return {
        "sorted-attributes": (lambda k: adversarial.sorted_attributes(_signed(k), cap), ErrorCode.XML_TOO_MANY_NODES),
        "namespaced-attributes": (
            lambda k: adversarial.namespaced_attributes(_signed(k), cap),
            ErrorCode.XML_TOO_MANY_NODES,
        ),
        "namespace-declarations": (
            lambda k: adversarial.namespace_declarations(_signed(k), cap),
            ErrorCode.XML_TOO_MANY_NODES,
        ),
        "deep-nesting": (lambda k: adversarial.deep_nesting(_signed(k), cap), ErrorCode.XML_TOO_MANY_NODES),
        # each copy declares ds: with the bench's certificate in KeyInfo, the declarations run out first
        "many-signatures": (lambda k: adversarial.many_signatures(_signed(k), cap), ErrorCode.XML_TOO_MANY_NAMESPACES),
        "attributes-on-one-element": (
            lambda k: adversarial.sorted_attributes(_signed(k), cap, count=1_500),
            ErrorCode.XML_TOO_MANY_ATTRIBUTES,
        ),
        "namespace-declarations-under-node-cap": (
            lambda k: adversarial.namespace_declarations(_signed(k), cap, count=300),
            ErrorCode.XML_TOO_MANY_NAMESPACES,
        ),
        "deep-nesting-under-node-cap": (
            lambda k: adversarial.deep_nesting(_signed(k), cap, depth=200),
            ErrorCode.XML_TOO_DEEP,
        ),
        "forged-signature-idp-with-six-keys": (
            lambda k: adversarial.grown_body(_from_the_multikey_idp(k), cap, near_cap, forge=True),
            ErrorCode.SIGNATURE_INVALID,
        ),
        "captured-signature-grown-body": (
            lambda k: adversarial.grown_body(_signed(k), cap, near_cap, forge=False),
            ErrorCode.SIGNATURE_INVALID,
        ),
    }


def run_forged(keys: BenchKeys, rounds: int = 100, warmup: int = 5, log=print) -> dict:
    import base64

    ours = Ours(keys)
    cap = ours.sp.settings.max_response_bytes
    forged = {}
    for name, (build, code) in shapes(cap).items():
        encoded = base64.b64encode(build(keys)).decode()
        assert len(encoded) <= cap, f"{name}: {len(encoded)} characters, over the cap {cap}"
        try:
            ours(encoded)
        except SamlError as exc:
            assert exc.code == code, f"{name}: refused with {exc.code.value}, expected {code.value}: {exc.detail}"
        else:
            raise AssertionError(f"{name}: accepted")
        forged[name] = encoded
    log(
        f"{len(forged)} forged shapes (each up to the {cap}-character SAMLResponse cap) and {rounds} valid responses, interleaved ..."
    )
    timings: dict[str, list[int]] = {name: [] for name in ("valid", *forged)}
    for index in range(rounds + warmup):
        [(request_id, encoded, issued_at)] = generate(keys, 1)
        ours.expect(request_id, issued_at)
        order = ["valid", *forged]
        order = order[index % len(order) :] + order[: index % len(order)]  # each first in turn
        for name in order:
            message = encoded if name == "valid" else forged[name]
            start = time.perf_counter_ns()
            with contextlib.suppress(SamlError):  # the forged ones are refused: that is what is timed
                ours(message)
            elapsed = time.perf_counter_ns() - start
            if index >= warmup:
                timings[name].append(elapsed)
    result = {name: summary(samples) for name, samples in timings.items()}
    valid = result["valid"]["median_ms"]
    worst = max(forged, key=lambda name: result[name]["median_ms"])
    result["worst"] = worst
    result["worst_ms"] = result[worst]["median_ms"]
    result["worst_ratio"] = round(result[worst]["median_ms"] / valid, 3)
    result["bytes"] = {name: len(base64.b64decode(value)) for name, value in forged.items()}
    return result


def print_forged(result: dict, out=print) -> None:
    out("forged Responses through the ACS (median ms; ratio to a valid one):")
    valid = result["valid"]["median_ms"]
    out(f"  {'valid response (whole ACS check)':44s} {valid:8.3f}")
    for name, size in result["bytes"].items():
        median = result[name]["median_ms"]
        out(f"  {name:44s} {median:8.3f}  {median / valid:5.2f}x  ({size} bytes)")
    out(
        f"  worst: {result['worst']} {result['worst_ms']:.3f} ms = {result['worst_ratio']:.2f}x a valid response (goal <= 2)"
    )


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_forged", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    options = parser.parse_args(argv)
    result = run_forged(bench_keys(), options.rounds)
    print_forged(result)
    return result


if __name__ == "__main__":
    main()
