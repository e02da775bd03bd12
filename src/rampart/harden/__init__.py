"""rampart harden: hardening rules as data, evaluated against a live host, a root filesystem or an image.

Rules (``rules/*.yml``) pair a typed check with a precondition and remediation; profiles (``profiles/*.yml``)
select rules and set variables; the engine evaluates a profile over a `SystemView` and returns one `RuleResult`
per rule. Facts (files, the shared filesystem walk, runtime state) are gathered once per run and shared by all
checks that need them.
"""
