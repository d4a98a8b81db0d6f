"""Reads a JUnit file with junitparser (Debian's python3-junitparser) and prints what it saw as JSON."""
import json
import sys

from junitparser import Error, Failure, JUnitXml, Properties, Skipped

xml = JUnitXml.fromfile(sys.argv[1])
suites = []
for suite in xml:
    cases = []
    for case in suite:
        results = [
            {"kind": {Failure: "failure", Error: "error", Skipped: "skipped"}[type(r)], "message": r.message, "type": r.type, "text": r.text}
            for r in case.result
        ]
        cases.append({"name": case.name, "classname": case.classname, "time": case.time, "passed": case.is_passed, "results": results, "system_out": case.system_out})
    suites.append({
        "name": suite.name,
        "tests": suite.tests,
        "failures": suite.failures,
        "errors": suite.errors,
        "skipped": suite.skipped,
        "time": suite.time,
        "properties": {p.name: p.value for p in suite.properties()},
        "cases": cases,
    })
print(json.dumps({"name": xml.name, "tests": xml.tests, "failures": xml.failures, "errors": xml.errors, "suites": suites}))
