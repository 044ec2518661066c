#!/usr/bin/env python3
"""Runs Microsoft Presidio's pattern recognizers over a JSON Lines corpus, for the redact bench.

Presidio's spaCy models are not on PyPI, so no NLP engine runs: each predefined recognizer that
needs none is called directly, as the AnalyzerEngine would call it, and duplicates are removed
the way the engine removes them. The public-suffix list is the copy bundled with tldextract,
so nothing is downloaded.

Usage: presidio_bench.py CORPUS PASSES
Prints one JSON object: timing over PASSES passes and, per line, [start, end, type] in characters.
Exits 3 when presidio-analyzer is not installed.
"""

import json
import sys
import time

try:
    import tldextract
    from presidio_analyzer import EntityRecognizer
    from presidio_analyzer.predefined_recognizers import (
        AbaRoutingRecognizer, CreditCardRecognizer, EmailRecognizer, IbanRecognizer,
        IpRecognizer, PhoneRecognizer, UsBankRecognizer, UsSsnRecognizer)
except ImportError as error:
    print(f"presidio-analyzer is not installed ({error}); run `make deps`", file=sys.stderr)
    sys.exit(3)

# Presidio's entity types, as the corpus labels them.
TYPES = {
    "PHONE_NUMBER": "PHONE", "EMAIL_ADDRESS": "EMAIL", "CREDIT_CARD": "CARD", "US_SSN": "SSN",
    "IBAN_CODE": "IBAN", "IP_ADDRESS": "IP", "US_BANK_NUMBER": "ACCOUNT",
    "ABA_ROUTING_NUMBER": "ROUTING",
}


def main():
    corpus_path, passes = sys.argv[1], int(sys.argv[2])
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())
    recognizers = [PhoneRecognizer(), EmailRecognizer(), CreditCardRecognizer(),
                   UsSsnRecognizer(), IbanRecognizer(), IpRecognizer(), UsBankRecognizer(),
                   AbaRoutingRecognizer()]
    with open(corpus_path, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]

    def analyze(text):
        results = []
        for recognizer in recognizers:
            results.extend(recognizer.analyze(text, recognizer.supported_entities, None))
        return EntityRecognizer.remove_duplicates(results)

    for text in texts[:20]:
        analyze(text)
    start = time.perf_counter()
    for _ in range(passes):
        found = [analyze(text) for text in texts]
    seconds = time.perf_counter() - start

    json.dump({
        "seconds": seconds,
        "passes": passes,
        "found": [[[r.start, r.end, TYPES[r.entity_type]] for r in line
                   if r.entity_type in TYPES] for line in found],
    }, sys.stdout)


if __name__ == "__main__":
    main()
