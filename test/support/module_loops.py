#!/usr/bin/python3
"""Print the loops between C modules: a.c calls a function defined in b.c
and b.c (directly or through others) calls back into a.c.

usage: module_loops.py SRC_ROOT FOLDER...   (e.g. src hotstore redis)
Modules are the .c files of the given folders; calls into files outside
them are ignored.  Exit status 1 when there is a loop.
"""
import os
import re
import sys

root, folders = sys.argv[1], sys.argv[2:]
DEF = re.compile(r'^(?!static\b)[A-Za-z_][\w \*]*\n([a-z_]\w*)\(', re.M)
COMMENT = re.compile(r'/\*.*?\*/|"(?:\\.|[^"\\])*"', re.S)

texts = {}
for folder in folders:
    d = os.path.join(root, folder)
    for name in sorted(os.listdir(d)):
        if name.endswith('.c'):
            with open(os.path.join(d, name)) as f:
                texts[name[:-2]] = COMMENT.sub('', f.read())

owner = {}
for module, text in texts.items():
    for fn in DEF.findall(text):
        owner[fn] = module

calls = {m: set() for m in texts}
for module, text in texts.items():
    for fn, other in owner.items():
        if other != module and re.search(r'\b%s\s*\(' % fn, text):
            calls[module].add(other)

loops = set()


def visit(path):
    for nxt in sorted(calls[path[-1]]):
        if nxt == path[0]:
            i = path.index(min(path))
            loops.add(' -> '.join(path[i:] + path[:i] + [min(path)]))
        elif nxt not in path and nxt > path[0]:
            visit(path + [nxt])


for m in sorted(texts):
    visit([m])
for loop in sorted(loops):
    print(loop)
sys.exit(1 if loops else 0)
