#!/usr/bin/env python3
"""Figures of one test run from its results: NUnit's result XML (TestOutputXml) and/or a trx file.

    bench/suite-figures.py RESULT.xml|RESULT.trx [...]

Prints the tests by outcome, the assertions NUnit counted (its result XML has `asserts` per test; a trx has none),
the summed test time, and the fixtures that took longest (their one-time set-up included, from the NUnit XML).
"""
import collections
import sys
import xml.etree.ElementTree as ET


def nunit(path):
    root = ET.parse(path).getroot()
    outcomes = collections.Counter()
    asserts = 0
    for case in root.iter("test-case"):
        outcomes[case.get("result")] += 1
        asserts += int(case.get("asserts", "0"))
    fixtures = [(float(s.get("duration", "0")), s.get("fullname"), int(s.get("total", "0")))
                for s in root.iter("test-suite") if s.get("type") in ("TestFixture", "ParameterizedFixture")]
    run = root if root.tag == "test-run" else root.find("test-run")
    print(f"{path}")
    print(f"  tests: {sum(outcomes.values())} ({', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))})")
    print(f"  assertions: {asserts}")
    if run is not None and run.get("duration"):
        print(f"  NUnit run duration: {float(run.get('duration')):.0f} s")
    # A parameterized fixture's instances are fixtures of their own (each its own lane): summed, not their container.
    instances = [(float(s.get("duration", "0")), s.get("fullname"), int(s.get("total", "0")))
                 for s in root.iter("test-suite") if s.get("type") == "TestFixture"]
    print(f"  summed fixture time: {sum(d for d, _, _ in instances):.0f} s over {len(instances)} fixtures")
    print("  slowest fixtures (s, tests):")
    for duration, name, total in sorted(fixtures, reverse=True)[:25]:
        print(f"    {duration:7.1f}  {total:4d}  {name}")


def trx(path):
    ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
    root = ET.parse(path).getroot()
    outcomes = collections.Counter()
    total = 0.0
    for result in root.iterfind(".//t:UnitTestResult", ns):
        outcomes[result.get("outcome")] += 1
        h, m, s = result.get("duration", "0:0:0").split(":")
        total += int(h) * 3600 + int(m) * 60 + float(s)
    times = root.find("t:Times", ns)
    print(f"{path}")
    print(f"  tests: {sum(outcomes.values())} ({', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))})")
    print(f"  summed test time: {total:.0f} s")
    if times is not None:
        print(f"  run: {times.get('start')} to {times.get('finish')}")


for arg in sys.argv[1:]:
    (trx if arg.endswith(".trx") else nunit)(arg)
