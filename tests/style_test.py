#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The structure the README promises, checked: no function in src/ longer
than 100 lines (signature to closing brace), <mpi.h> included by exactly one
file (src/comm_mpi.c), no circle among the files of src/ and of src/cli/
(x.c and x.h are one file here) in what they include, in what they call
(read from the source, so static inline functions count), or in the
symbols each library object file defines and uses, and the README and docs/ naming nothing
outside the repository: every repository path they quote exists, and none
points above the repository's root.
Usage: style_test.py REPO_ROOT [LIBRARY_OBJECT_FILES...]"""
import glob, os, re, subprocess, sys

LIMIT = 100
root = sys.argv[1]
failures = []


def strip_literals(line):
    line = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
    return re.sub(r"'(?:[^'\\]|\\.)*'", "''", line)


def functions(path):
    """(name, first line, length) of every function defined in a C file."""
    text = open(path, encoding='utf-8', errors='replace').read()
    text = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), text, flags=re.S)
    lines = text.split('\n')
    depth, header, in_macro, fn = 0, None, False, None
    for i, raw in enumerate(lines):
        line = strip_literals(re.sub(r'//.*', '', raw))
        if in_macro or line.lstrip().startswith('#'):
            in_macro = line.rstrip().endswith('\\')
            continue
        if depth == 0 and header is None and re.match(r'^[A-Za-z_]', line):
            header = i
        opens, closes = line.count('{'), line.count('}')
        if depth == 0 and opens > closes and header is not None:
            sig = ' '.join(lines[header:i + 1])
            name = re.search(r'(\w+)\s*\(', sig)
            if name and not re.match(r'^\s*(typedef|struct|enum|union)\b', sig) \
                    and '=' not in sig.split('(')[0]:
                fn = (name.group(1), header)
        depth += opens - closes
        if depth == 0:
            if fn and closes:
                yield fn[0], fn[1] + 1, i - fn[1] + 1
                fn = None
            if line.rstrip().endswith((';', '}')) or not line.strip():
                header = None


sources = sorted(glob.glob(os.path.join(root, 'src', '**', '*.c'), recursive=True))
if not sources:
    failures.append('no C sources found under src/')
count = 0
for path in sources:
    for name, line, n in functions(path):
        count += 1
        if n > LIMIT:
            failures.append(f'{os.path.relpath(path, root)}:{line}: {name} is {n} lines (limit {LIMIT})')

includes_mpi = []
for path in glob.glob(os.path.join(root, 'src', '**', '*.[ch]'), recursive=True) + \
        glob.glob(os.path.join(root, 'include', '**', '*.h'), recursive=True):
    if re.search(r'#\s*include\s*<mpi\.h>', open(path, encoding='utf-8', errors='replace').read()):
        includes_mpi.append(os.path.relpath(path, root))
if includes_mpi != ['src/comm_mpi.c']:
    failures.append(f'<mpi.h> must be included by src/comm_mpi.c alone, found in: {includes_mpi}')

def symbols(obj):
    """(defined, undefined) global symbols of an object file, from nm."""
    out = subprocess.run(['nm', obj], capture_output=True, text=True, check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in 'TDBR':
            defined.add(parts[2])
        elif len(parts) == 2 and parts[0] == 'U':
            used.add(parts[1])
    return defined, used


def find_circle(graph):
    """A list of files that depend on each other in a circle, or None."""
    state = {}
    def visit(v, path):
        state[v] = 'open'
        path.append(v)
        for w in graph[v]:
            if state.get(w) == 'open':
                return path[path.index(w):] + [w]
            if w not in state:
                found = visit(w, path)
                if found:
                    return found
        path.pop()
        state[v] = 'done'
        return None
    for v in sorted(graph):
        if v not in state:
            found = visit(v, [])
            if found:
                return found
    return None


def module(path):
    """x.c and x.h are one module; the two communication twins are one too."""
    rel = os.path.relpath(path, root)
    stem = os.path.splitext(rel)[0]
    return 'src/comm' if stem in ('src/comm_mpi', 'src/comm_serial') else stem


def without_comments(path):
    text = open(path, encoding='utf-8', errors='replace').read()
    text = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), text, flags=re.S)
    return '\n'.join(strip_literals(re.sub(r'//.*', '', l)) for l in text.split('\n'))


def definitions(text):
    """(name, head, body) of every function defined in comment-free C text:
    the head is the text before the name (static, inline, the type)."""
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch == '{':
            if depth == 0:
                before = text[start:i]
                lines = [l for l in before.split('\n') if not l.lstrip().startswith('#')]
                sig = ' '.join(lines).strip()
                m = re.search(r'(?:^|[;}])?\s*([A-Za-z_][\w \t\*]*?)\b(\w+)\s*\(([^;]*)\)\s*(?:__attribute__\s*\(\(.*\)\))?\s*$', sig)
                body_start = i
            depth += 1
        elif ch == '}':
            depth -= 1
            if depth == 0:
                if m and not re.search(r'\b(struct|enum|union|typedef)\b|=', m.group(1)):
                    yield m.group(2), m.group(1), text[body_start:i + 1]
                start, m = i + 1, None
        elif ch == ';' and depth == 0:
            start = i + 1


code_files = sorted(glob.glob(os.path.join(root, 'src', '**', '*.[ch]'), recursive=True))
include_graph, call_graph, owners, calls = {}, {}, {}, {}
for path in code_files:
    mod = module(path)
    include_graph.setdefault(mod, set())
    call_graph.setdefault(mod, set())
    raw = open(path, encoding='utf-8', errors='replace').read()
    for name in re.findall(r'^\s*#\s*include\s*"([^"]+)"', raw, flags=re.M):
        target = os.path.normpath(os.path.join(os.path.dirname(path), name))
        if os.path.exists(target) and module(target) != mod:
            include_graph[mod].add(module(target))
    for name, head, body in definitions(without_comments(path)):
        # callable from other files: external functions of .c files, static inline ones of headers
        if (path.endswith('.c') and not re.search(r'\bstatic\b', head)) or \
                (path.endswith('.h') and 'inline' in head):
            owners.setdefault(name, set()).add(mod)
        calls.setdefault(mod, set()).update(re.findall(r'\b([A-Za-z_]\w*)\s*\(', body))
for mod, names in calls.items():
    for name in names:
        call_graph[mod] |= {o for o in owners.get(name, ()) if o != mod}
for kind, graph in (('include', include_graph), ('call', call_graph)):
    circle = find_circle({k: sorted(v) for k, v in graph.items()})
    if circle:
        failures.append(f'files {kind} each other in a circle: ' + ' -> '.join(circle))

objects = sys.argv[2:]
if objects:
    name = lambda o: os.path.basename(o).split('.')[0]
    table = {name(o): symbols(o) for o in objects}
    owner = {s: f for f, (defined, _) in table.items() for s in defined}
    graph = {f: sorted({owner[s] for s in used if s in owner and owner[s] != f})
             for f, (_, used) in table.items()}
    circle = find_circle(graph)
    if circle:
        failures.append('files depend on each other in a circle: ' + ' -> '.join(circle))

docs = [os.path.join(root, 'README.md')] + sorted(glob.glob(os.path.join(root, 'docs', '*.md')))
path_like = re.compile(r'^(?:\./)?((?:src|include|scripts|tests|docs|examples|\.ci)/[\w./*-]+)$')
for doc in docs:
    text = open(doc, encoding='utf-8').read()
    rel = os.path.relpath(doc, root)
    for n, line in enumerate(text.split('\n'), 1):
        outside = 'shared/seed' in line
        for up in re.findall(r'(?:^|[\s`(])(\.\./[^\s`)]*)', line):
            target = os.path.realpath(os.path.join(os.path.dirname(doc), up))
            outside |= os.path.commonpath([target, os.path.realpath(root)]) != os.path.realpath(root)
        if outside:
            failures.append(f'{rel}:{n}: names a file outside the repository: {line.strip()}')
        for token in re.findall(r'`([^`\s]+)`', line) + re.findall(r'\]\(([^)\s#]+)', line):
            m = path_like.match(token.rstrip('.,:;'))
            if m and not glob.glob(os.path.join(root, m.group(1))):
                failures.append(f'{rel}:{n}: {m.group(1)} does not exist')

for f in failures:
    print('FAIL:', f)
print(f'style: {count} functions in {len(sources)} files, {len(objects)} object files; '
      f'{len(failures)} problem(s)')
sys.exit(1 if failures else 0)
