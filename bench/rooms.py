#!/usr/bin/env python3
"""Folder pairs ("rooms") of Sanctum.Api/ that import each other (issue 25, item 6).

A room imports another when one of its .cs files names `Sanctum.Api.<Other>` (a using or a qualified name).
Prints the number of pairs and the pairs; with --why, also which files name the other room.
Run from anywhere: python3 bench/rooms.py [--why]
"""
import collections
import os
import re
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'Sanctum.Api')
os.chdir(root)
rooms = [d for d in os.listdir('.') if os.path.isdir(d) and d not in ('bin', 'obj')]
uses = collections.defaultdict(set)
why = collections.defaultdict(set)
for r in rooms:
    for dp, _, fs in os.walk(r):
        for f in fs:
            if f.endswith('.cs'):
                path = os.path.join(dp, f)
                t = open(path).read()
                for m in re.findall(r'\bSanctum\.Api\.(\w+)', t):
                    if m in rooms and m != r:
                        uses[r].add(m)
                        why[(r, m)].add(path)
pairs = sorted({tuple(sorted((a, b))) for a in uses for b in uses[a] if a in uses.get(b, ())})
print(len(pairs))
print(pairs)
if '--why' in sys.argv:
    for a, b in pairs:
        print(f'{a} -> {b}: {", ".join(sorted(why[(a, b)]))}')
        print(f'{b} -> {a}: {", ".join(sorted(why[(b, a)]))}')
