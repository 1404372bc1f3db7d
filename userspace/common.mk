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
include $(TOP)/userspace/dirs.mk
# AVF_DEVEL=1 (make user, the tests): libavf also looks in this build tree
# and the kernel cache. Installed builds (make install) are built without it.
AVF_DEVEL ?= 1
# -Werror only in the project's own developer and CI builds (tools/check.sh
# and make check set AVF_WERROR=1); distribution builds warn.
AVF_WERROR ?= 0
WERROR := $(if $(filter 1,$(AVF_WERROR)),-Werror)
# Hardening, on by default. FORTIFY_SOURCE only where CPPFLAGS/CFLAGS from
# the environment (dpkg-buildflags) do not choose a level, and not with the
# sanitizers.
HARDEN_CFLAGS := -fstack-protector-strong -fstack-clash-protection -fcf-protection
ifeq ($(SAN),1)
else ifeq ($(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),)
HARDEN_CFLAGS += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3
endif
HARDEN_LDFLAGS := -Wl,-z,relro,-z,now
# Executables are PIE (objects -fPIE, linked -pie); libraries -fPIC.
PIE_CFLAGS := -fPIE
PIE_LDFLAGS := -pie
ENV_CFLAGS := $(CFLAGS)
ENV_CPPFLAGS := $(CPPFLAGS)
ENV_LDFLAGS := $(LDFLAGS)
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wmissing-prototypes -Wshadow $(WERROR) -O2 -g -ffile-prefix-map=$(TOP)/= $(HARDEN_CFLAGS) $(PIE_CFLAGS) \
	-I$(TOP)/include/uapi -I$(TOP)/include -I$(TOP)/common $(SANFLAGS) \
	$(ENV_CPPFLAGS) $(ENV_CFLAGS)
LDFLAGS_COMMON := $(SANFLAGS) $(HARDEN_LDFLAGS) $(ENV_LDFLAGS)
# The kernel source tree (for kselftest_harness.h in unit tests), extracted
# by kernel/build.sh into the cache.
AVF_CACHE ?= $(HOME)/.cache/avf
KSRC ?= $(lastword $(sort $(wildcard $(AVF_CACHE)/src/linux-source-6.12-*)))
# kselftest_harness.h: from KSRC when there, else the tests that need it
# are skipped (HAVE_KSFT empty) with a message saying so.
HAVE_KSFT := $(wildcard $(KSRC)/tools/testing/selftests/kselftest_harness.h)
# (the harness's macros define functions without prototypes and shadow:
# test programs, which all use it, build without those two warnings)
KSFT_INC := -I$(KSRC)/tools/testing/selftests -Wno-missing-prototypes -Wno-shadow
KSFT_MISSING = @echo "SKIP $@: kselftest_harness.h not found (KSRC=$(KSRC)); run kernel/build.sh normal or set KSRC"

# libFuzzer (make fuzz in a component): the component sets FUZZ_TARGETS
# (with :=, tools/check.sh reads it), FUZZ_DIR and the rules that build
# $(FUZZ_DIR)/<target> with clang $(FUZZ_SAN); its fuzz rule's recipe is
# $(FUZZ_RUN): each target for FUZZ_SECONDS from its seed corpus
# fuzz/corpus/<target>/ (FUZZ_MAX_LEN: the largest input, when set),
# crashes saved as $(FUZZ_DIR)/<target>-*, the log's tail on failure.
FUZZ_SECONDS ?= 20
FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
define FUZZ_RUN
@set -e; for t in $(FUZZ_TARGETS); do \
	mkdir -p $(FUZZ_DIR)/corpus-$$t; \
	echo "# fuzzing $$t for $(FUZZ_SECONDS)s"; \
	$(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
		$(if $(FUZZ_MAX_LEN),-max_len=$(FUZZ_MAX_LEN)) -artifact_prefix=$(FUZZ_DIR)/$$t- \
		$(FUZZ_DIR)/corpus-$$t fuzz/corpus/$$t \
		2>$(FUZZ_DIR)/$$t.log || { tail -50 $(FUZZ_DIR)/$$t.log; exit 1; }; \
	tail -1 $(FUZZ_DIR)/$$t.log; \
done
endef
