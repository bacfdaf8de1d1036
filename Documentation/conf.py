# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration of cohbuf's documentation. Build it with scripts/docs
# ("make docs"), which also runs in scripts/static-checks: it points
# COHBUF_LINUX_SOURCE at the files taken from Debian's linux-source-6.12
# package (scripts/vm/lib.sh, linux_source_dir), whose kernel-doc script
# and Sphinx extension turn the kernel-doc comments of the uapi headers
# into the pages that pull them in with ".. kernel-doc::". Nothing of the
# kernel's is committed here.

import os
import sys

srctree = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
linux_source = os.environ.get('COHBUF_LINUX_SOURCE')
if not linux_source:
    raise RuntimeError('COHBUF_LINUX_SOURCE is not set: build the '
                       'documentation with scripts/docs (make docs)')
sys.path.insert(0, os.path.join(linux_source, 'Documentation', 'sphinx'))

project = 'cohbuf'
copyright = 'the cohbuf authors'
root_doc = 'index'
extensions = ['kerneldoc']

# The kernel's extension: the directive runs this kernel-doc script on
# files named relative to the top of the tree.
kerneldoc_bin = os.path.join(linux_source, 'scripts', 'kernel-doc')
kerneldoc_srctree = srctree
kerneldoc_verbosity = 1

# Every cross-reference must resolve: a misspelt &struct or identifier in
# a kernel-doc comment is a warning, and scripts/docs fails on warnings.
# The kernel's types in the prototype of cohbuf_alloc_dmabuf() are the
# only ones left out: this documentation does not describe them.
nitpicky = True
nitpick_ignore = [('c:identifier', t) for t in ('dma_buf', 'size_t', 'u32')]

# Two builds of one tree (scripts/docs): the HTML pages, and with "-t man"
# the manual pages under man/, which pull in the same kernel-doc comments
# and parameter tables, so that the two cannot disagree.  Each build
# leaves the other's documents out (kernel-doc's declarations may appear
# once per build).
if tags.has('man'):
    root_doc = 'man/index'
    exclude_patterns = [f for f in os.listdir(os.path.dirname(__file__) or '.')
                        if f.endswith('.rst')]
else:
    exclude_patterns = ['man']
man_pages = [
    ('man/cohbuf.1', 'cohbuf', 'allocate, fill, check and share cohbuf buffers',
     'the cohbuf authors', 1),
    ('man/libcohbuf.3', 'libcohbuf', 'C library for cohbuf buffers, the importer '
     'and dma-buf fds', 'the cohbuf authors', 3),
    ('man/cohbuf.4', 'cohbuf', 'coherent DMA-BUF exporter and test importer devices',
     'the cohbuf authors', 4),
]
man_show_urls = False

highlight_language = 'none'
html_theme = 'alabaster'
html_title = 'cohbuf documentation'
