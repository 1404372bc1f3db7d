# SPDX-License-Identifier: GPL-2.0
# Shared settings for every userspace Makefile (userspace/*, payload/,
# selftests/). Include with: TOP := $(abspath ../..)  include $(TOP)/userspace/common.mk
#
#   make            -> objects and binaries under $(TOP)/build/user
#   make SAN=1      -> ASan+UBSan build under $(TOP)/build/asan
#
# Userspace code is licensed GPL-2.0 like the module (one licence for the tree).
CC ?= gcc
ifeq ($(SAN),1)
OUT ?= $(TOP)/build/asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
OUT ?= $(TOP)/build/user
SANFLAGS :=
endif
BIN := $(OUT)/bin
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g \
	-I$(TOP)/include/uapi -I$(TOP)/include -I$(TOP)/common $(SANFLAGS)
LDFLAGS_COMMON := $(SANFLAGS)
# The kernel source tree (for kselftest_harness.h in unit tests), extracted
# by kernel/build.sh into the cache.
AVF_CACHE ?= $(HOME)/.cache/avf
KSRC ?= $(lastword $(sort $(wildcard $(AVF_CACHE)/src/linux-source-6.12-*)))
KSFT_INC := -I$(KSRC)/tools/testing/selftests
