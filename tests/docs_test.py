#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The commands the documentation shows, checked against the program.

Every `descent` command line in the fenced sh blocks of README.md and
docs/*.md, and in the man page's EXAMPLES, must name a real command and only
options of that command's table (`descent CMD --list-options`); every
repository file a block names must exist, and every link between the
pages must lead to a file and heading. Then the first block that trains
in the README (its tour) and in the user guide run as written in a scratch
directory, each
`train` given `--limit 300 --test-limit 200 --epochs 1` at the end (later
options win), so the files one command writes are those the next reads.
Usage: docs_test.py REPO_ROOT DESCENT"""
import glob, os, re, shlex, subprocess, sys, tempfile

root, binary = sys.argv[1], os.path.abspath(sys.argv[2])
failures = []
SMALL = ['--limit', '300', '--test-limit', '200', '--epochs', '1']
tables = {}


def options_of(cmd):
    """The option names of one command, or None if it is no command."""
    if cmd not in tables:
        r = subprocess.run([binary, cmd, '--list-options'], capture_output=True, text=True)
        tables[cmd] = {l.split()[0] for l in r.stdout.splitlines()} if r.returncode == 0 else None
    return tables[cmd]


def blocks(path):
    """(first line number, lines) of each fenced sh block of a Markdown file."""
    lines = open(path, encoding='utf-8').read().split('\n')
    out, cur, start = [], None, 0
    for n, line in enumerate(lines, 1):
        if cur is None and re.match(r'^```(sh|bash)\s*$', line):
            cur, start = [], n + 1
        elif cur is not None and line.startswith('```'):
            out.append((start, cur))
            cur = None
        elif cur is not None:
            cur.append(line)
    return out


def man_examples(path):
    """The man page's .EX ... .EE lines, unescaped."""
    text = open(path, encoding='utf-8').read()
    found = []
    for m in re.finditer(r'^\.EX\n(.*?)^\.EE', text, flags=re.S | re.M):
        found.append((text[:m.start()].count('\n') + 2,
                      m.group(1).replace('\\-', '-').replace('\\e', '\\').split('\n')))
    return found


def logical_lines(lines):
    """Lines joined across trailing backslashes."""
    joined, acc = [], ''
    for line in lines:
        if line.rstrip().endswith('\\'):
            acc += line.rstrip()[:-1] + ' '
        else:
            joined.append(acc + line)
            acc = ''
    if acc:
        joined.append(acc)
    return joined


def descent_calls(line):
    """(command, arguments) of every descent invocation in a shell line."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError as e:
        return [('?', [str(e)])]
    calls, i = [], 0
    while i < len(words):
        w = words[i]
        if os.path.basename(w) == 'descent' and i + 1 < len(words):
            args = []
            for a in words[i + 2:]:
                if a in ('|', '&&', ';', '||', '>', '<') or a.startswith(('>', '<')):
                    break
                args.append(a)
            calls.append((words[i + 1], args))
        i += 1
    return calls


path_like = re.compile(r'^(?:\./)?((?:src|include|scripts|tests|docs|examples)/[\w./-]+)$')


def check(where, line):
    for cmd, args in descent_calls(line):
        if cmd in ('--help', '--version', '-h', 'help'):
            continue
        names = options_of(cmd)
        if names is None:
            failures.append(f'{where}: descent {cmd}: no such command')
            continue
        for a in args:
            if a.startswith('--') and a.split('=')[0] not in names and a != '--list-options':
                failures.append(f'{where}: descent {cmd}: no option {a.split("=")[0]}')
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        words = []
    for w in words:
        m = path_like.match(w)
        if m and not glob.glob(os.path.join(root, m.group(1))) and 'DATE' not in w:
            failures.append(f'{where}: {m.group(1)} does not exist')


docs = [os.path.join(root, 'README.md')] + sorted(glob.glob(os.path.join(root, 'docs', '*.md')))
calls = 0
for doc in docs:
    rel = os.path.relpath(doc, root)
    for start, lines in blocks(doc):
        for k, line in enumerate(logical_lines(lines)):
            calls += len(descent_calls(line))
            check(f'{rel}:{start}+{k}', line)
for start, lines in man_examples(os.path.join(root, 'docs', 'descent.1')):
    for k, line in enumerate(logical_lines(lines)):
        calls += len(descent_calls(line))
        check(f'docs/descent.1:{start}+{k}', line)
if calls < 20:
    failures.append(f'only {calls} descent command lines found: the extraction is broken')

# every relative link between the pages leads to a file, and to a heading
# of it when it names one (GitHub's anchors: lower case, punctuation
# dropped, spaces as hyphens)
def anchors(path):
    heads = re.findall(r'^#+\s+(.*)$', open(path, encoding='utf-8').read(), flags=re.M)
    return {re.sub(r'[^\w\- ]', '', h.strip().lower()).replace(' ', '-') for h in heads}


links = 0
for doc in docs:
    rel = os.path.relpath(doc, root)
    text = open(doc, encoding='utf-8').read()
    for target in re.findall(r'\]\(([^)\s]+)\)', text):
        if re.match(r'^[a-z]+:', target):
            continue
        links += 1
        name, _, anchor = target.partition('#')
        dest = os.path.normpath(os.path.join(os.path.dirname(doc), name)) if name else doc
        if not os.path.exists(dest):
            failures.append(f'{rel}: the link {target} leads nowhere')
        elif anchor and dest.endswith('.md') and anchor not in anchors(dest):
            failures.append(f'{rel}: the link {target} names no heading of {os.path.relpath(dest, root)}')

# the README's tour and the user guide's first examples, run as written
def first_training_block(path):
    return next((ls for _, ls in blocks(path)
                 if any(re.search(r'^\S*descent train ', l) for l in ls)), None)


def run_block(name, lines, made):
    """Run a block's commands in order in a scratch directory that has
    build/descent and scripts/; returns how many ran."""
    ran = 0
    with tempfile.TemporaryDirectory() as work:
        os.makedirs(os.path.join(work, 'build'))
        os.symlink(binary, os.path.join(work, 'build', 'descent'))
        os.symlink(os.path.join(os.path.abspath(root), 'scripts'), os.path.join(work, 'scripts'))
        for line in logical_lines(lines):
            line = '' if line.lstrip().startswith('#') else line.split(' #')[0].strip()
            if not line:
                continue
            if re.search(r'descent train ', line):
                line += ' ' + ' '.join(SMALL)
            r = subprocess.run(['bash', '-ec', line], cwd=work, capture_output=True, text=True,
                               timeout=300, env=env)
            ran += 1
            if r.returncode != 0:
                failures.append(f'{name}: `{line}` exited {r.returncode}: {r.stderr.strip()[-300:]}')
        for f in made:
            if not os.path.exists(os.path.join(work, f)):
                failures.append(f'{name}: {f} was not written')
    return ran


# the pages mean Debian's python3 (with python3-numpy), ahead of any other
env = dict(os.environ, PATH='/usr/bin:' + os.environ.get('PATH', ''))
ran = 0
for page, made in (('README.md', ['fashion.model', 'metrics.csv', 'classes.txt', 'weights/manifest.json']),
                   ('docs/user-guide.md', ['sigmoid.model', 'fashion.model', 'best.model', 'last.model',
                                           'tuned.model', 'weights/W1.npy'])):
    block = first_training_block(os.path.join(root, page))
    if block is None:
        failures.append(f'{page}: no block that trains')
    else:
        ran += run_block(page, block, made)

for f in failures:
    print('FAIL:', f)
print(f'docs: {calls} descent command lines in {len(docs)} pages and the man page checked '
      f'against {len(tables)} option tables; {links} links followed; {ran} example commands run; {len(failures)} problem(s)')
sys.exit(1 if failures else 0)
