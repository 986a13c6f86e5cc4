# Keeps the snapshot's pre-imported modules out of sys.modules until a program imports them
# (issue 24): a program starts with exactly the modules `python3.13 -c` starts with, and the
# first import of a pre-imported module hands it over, with the modules its import brought in,
# at no more cost than a dictionary move. Run once at build time by hidden_modules.c, in a
# namespace of its own; nothing here is reachable from a program.
#
#   start()            before the pre-imports: remembers sys.modules and wraps builtins.__import__
#                      to record which module's import brought in which modules
#   hide()             after them: restores __import__, moves every new module from sys.modules
#                      into HIDDEN, with DEPS (what importing it brings in, in load order) and
#                      the submodule attributes of packages that a fresh import would not have set
#   handover(name)     at run time, for hidden_modules.c's _find_and_load: puts `name` and its
#                      DEPS back into sys.modules and returns the module
#   rehide(before)     at run time: hides again what the driver's prologue imported

import builtins
import sys

HIDDEN = {}   # name -> module object, not yet asked for
DEPS = {}     # name -> names (itself included) whose import it implies, in sys.modules order
ATTRS = {}    # name -> (parent package, attribute) removed from the parent while hidden
_state = {}


def _initializing_module():
    """Name of the innermost module whose body is running (its spec says _initializing)."""
    try:
        f = sys._getframe(2)
    except ValueError:   # an import from C with no Python frame under it
        return None
    while f is not None:
        if f.f_code.co_name == '<module>':
            name = f.f_globals.get('__name__')
            spec = getattr(sys.modules.get(name), '__spec__', None)
            if getattr(spec, '_initializing', False):
                return name
        f = f.f_back
    return None


def start():
    real = builtins.__import__
    edges = {}

    def recording_import(name, globals=None, locals=None, fromlist=(), level=0):
        before = set(sys.modules)
        module = real(name, globals, locals, fromlist, level)
        importer = _initializing_module()
        if importer is not None:
            found = edges.setdefault(importer, set())
            found.update(set(sys.modules) - before)
            if level:
                bootstrap = sys.modules['_frozen_importlib']
                name = bootstrap._resolve_name(name, bootstrap._calc___package__(globals), level)
            parts = name.split('.')
            found.update('.'.join(parts[:i]) for i in range(1, len(parts) + 1))
            found.update(f'{name}.{x}' for x in fromlist or () if f'{name}.{x}' in sys.modules)
        return module

    _state.update(real=real, edges=edges, base=set(sys.modules))
    builtins.__import__ = recording_import


def hide():
    builtins.__import__ = _state['real']
    edges, base = _state['edges'], _state['base']
    modules = sys.modules
    order = [n for n in modules if n not in base and modules[n] is not None]
    for n in [n for n in modules if n not in base and modules[n] is None]:
        del modules[n]   # negative entries: a fresh interpreter has not tried them yet
    position = {n: i for i, n in enumerate(order)}
    # Names a package put in sys.modules itself for a module it imported (os.path for posixpath,
    # collections.abc for _collections_abc) go with that module when the package goes too.
    aliases = {}
    for n in order:
        aliases.setdefault(id(modules[n]), []).append(n)

    def closure(name):
        seen, todo = set(), [name]
        while todo:
            n = todo.pop()
            if n in seen or n not in position:
                continue
            seen.add(n)
            todo.extend(edges.get(n, ()))
            parent = n.rpartition('.')[0]
            if parent:
                todo.append(parent)
        seen.update(a for n in list(seen) for a in aliases[id(modules[n])]
                    if a.rpartition('.')[0] in seen or a.rpartition('.')[0] in base)
        return tuple(sorted(seen, key=position.__getitem__))

    DEPS.update((n, closure(n)) for n in order)
    for n in order:
        parent, _, child = n.rpartition('.')
        package = modules.get(parent) if parent else None
        if package is not None and getattr(package, child, None) is modules[n] \
                and getattr(modules[n], '__name__', None) == n \
                and (parent in base or n not in DEPS[parent]):
            delattr(package, child)
            ATTRS[n] = (parent, child)
    HIDDEN.update((n, modules.pop(n)) for n in order)
    _state.clear()


def handover(name):
    modules = sys.modules
    given = []
    for n in DEPS[name]:
        module = HIDDEN.pop(n, None)
        if module is not None and n not in modules:
            modules[n] = module
            given.append((n, module))
    for n, module in given:
        parent = ATTRS.get(n)
        if parent is not None and parent[0] in modules:
            setattr(modules[parent[0]], parent[1], module)
        if n == 'random':
            module.seed()   # seeded at build time; a fresh import seeds from os.urandom
    return modules[name]


def rehide(before):
    modules = sys.modules
    for n in [n for n in modules if n not in before]:
        module = modules.pop(n)
        if module is None:
            continue
        HIDDEN[n] = module
        DEPS.setdefault(n, (n,))
        parent = ATTRS.get(n)
        if parent is not None and getattr(modules.get(parent[0]), parent[1], None) is module:
            delattr(modules[parent[0]], parent[1])
