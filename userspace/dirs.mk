# SPDX-License-Identifier: GPL-2.0
# Install directories (FHS), one home for the top-level Makefile (make
# install) and userspace/common.mk (compiled into libavf/avfctl so that
# installed binaries find their peers under the prefix).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
LIBEXECDIR ?= $(PREFIX)/libexec
DATADIR ?= $(PREFIX)/share
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(DATADIR)/man
