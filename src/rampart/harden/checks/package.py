"""``package``: any of ``names`` installed (state installed), or none of them (state absent), by the target's
package database (facts.packages: dpkg, rpm or apk; none at all is an error). ``manager`` names the package
manager whose names these are: on a target using another one the check does not apply."""

from __future__ import annotations

from typing import Literal

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.packages import installed_packages
from rampart.harden.model import Outcome


class PackageParams(Params):
    names: list[str]
    state: Literal["installed", "absent"] = "installed"
    manager: Literal["dpkg", "rpm", "apk"] | None = None


def evaluate(params: PackageParams, context: Context) -> Outcome:
    installed = installed_packages(context)
    if params.manager is not None and installed.manager != params.manager:
        return Outcome.not_applicable(
            f"package names are {params.manager}'s; the target uses {installed.manager}"
        )
    found = [name for name in params.names if name in installed.names]
    where = installed.sources[0] if installed.sources else installed.manager
    notes = [f"note: {problem}" for problem in installed.problems[:2]]
    if found:
        line = f"{where}: installed: {', '.join(found)}"
        return Outcome.passed(line, *notes) if params.state == "installed" else Outcome.failed(line, *notes)
    line = f"{where}: not installed: {', '.join(params.names)}"
    return Outcome.passed(line, *notes) if params.state == "absent" else Outcome.failed(line, *notes)


CHECK = CheckType("package", PackageParams, evaluate, "a package is installed, or none of some packages is")
