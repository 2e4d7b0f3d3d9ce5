#!/usr/bin/env python3
"""The structure the README promises, checked: no function in src/ longer
than 100 lines (signature to closing brace), <mpi.h> included by exactly one
file (src/comm_mpi.c), and the README and docs/ naming nothing outside the
repository: every repository path they quote exists, and none points above
the repository's root.
Usage: style_test.py REPO_ROOT"""
import glob, os, re, sys

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

docs = [os.path.join(root, 'README.md')] + sorted(glob.glob(os.path.join(root, 'docs', '*.md')))
path_like = re.compile(r'^(?:\./)?((?:src|include|scripts|tests|docs|examples|\.ci)/[\w./*-]+)$')
for doc in docs:
    text = open(doc, encoding='utf-8').read()
    rel = os.path.relpath(doc, root)
    for n, line in enumerate(text.split('\n'), 1):
        if re.search(r'(^|[\s`(])\.\./', line) or 'shared/seed' in line:
            failures.append(f'{rel}:{n}: names a file outside the repository: {line.strip()}')
        for token in re.findall(r'`([^`\s]+)`', line) + re.findall(r'\]\(([^)\s#]+)', line):
            m = path_like.match(token.rstrip('.,:;'))
            if m and not glob.glob(os.path.join(root, m.group(1))):
                failures.append(f'{rel}:{n}: {m.group(1)} does not exist')

for f in failures:
    print('FAIL:', f)
print(f'style: {count} functions in {len(sources)} files; {len(failures)} problem(s)')
sys.exit(1 if failures else 0)
