"""``kernel_module``: a module must be unavailable: either no kernel tree ships it, or modprobe.d both makes
loading it run a no-op (``install <m> /bin/false`` or ``/bin/true``) and blacklists it; on a live system it must
also not be loaded now. Built into a kernel means it cannot be made unavailable (fail)."""

from __future__ import annotations

from typing import Literal

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.modprobe import ModprobeConfig, modprobe_config, module_index, module_name
from rampart.harden.model import Outcome

NO_OP_COMMANDS = frozenset({"/bin/false", "/bin/true", "/usr/bin/false", "/usr/bin/true"})


class KernelModuleParams(Params):
    name: str
    state: Literal["unavailable"] = "unavailable"


def _disabled(config: ModprobeConfig, name: str, shown: str) -> tuple[bool, list[str]]:
    install = config.installs.get(name)
    blacklist = config.blacklists.get(name)
    no_op = install is not None and install[0].split()[0] in NO_OP_COMMANDS
    lines = [
        f"{install[1]}: install {shown} {install[0]}"
        if install
        else f"no 'install {shown} /bin/false' in modprobe.d"
    ]
    if install is not None and not no_op:
        lines[0] += " (not a no-op command)"
    lines.append(f"{blacklist}: blacklist {shown}" if blacklist else f"no 'blacklist {shown}' in modprobe.d")
    return no_op and blacklist is not None, lines


def _shipped(context: Context, name: str) -> tuple[list[str], list[str]]:
    index = module_index(context)
    loadable = [tree for tree, names in index.loadable.items() if name in names]
    builtin = [tree for tree, names in index.builtin.items() if name in names]
    return loadable, builtin


def evaluate(params: KernelModuleParams, context: Context) -> Outcome:
    name = module_name(params.name)
    loadable, builtin = _shipped(context, name)
    ok, evidence = True, []
    if builtin:
        ok, evidence = False, [f"{tree}: {params.name} is built into the kernel" for tree in builtin]
    if loadable:
        disabled, lines = _disabled(modprobe_config(context), name, params.name)
        ok, evidence = ok and disabled, [*evidence, f"{params.name} shipped in {', '.join(loadable)}", *lines]
    elif not builtin:
        evidence.append(f"{params.name} is not in any /lib/modules tree")
    if context.runtime is None:
        evidence.append("runtime not checked (offline target)")
    elif name in {module_name(loaded) for loaded in context.runtime.modules_loaded()}:
        ok, evidence = False, [*evidence, f"{params.name} is loaded now (/proc/modules)"]
    return Outcome.passed(*evidence) if ok else Outcome.failed(*evidence)


CHECK = CheckType(
    "kernel_module", KernelModuleParams, evaluate, "a kernel module cannot be loaded (absent or disabled)"
)
