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

highlight_language = 'none'
html_theme = 'alabaster'
html_title = 'cohbuf documentation'
