# SPDX-License-Identifier: GPL-2.0
#
# avf top-level Makefile.
#
#   make            build the module and every userspace component
#   make kernel     build the test-host/guest kernels into ~/.cache/avf
#   make module     build avf.ko (and the KUnit module) against KDIR
#   make check      run every test tier; prints "N passed, N failed"
#   make demo       boot the test host and run the hello payload VM
#   make bench      run the benchmarks inside the test host
#
# KDIR=/lib/modules/$(uname -r)/build builds avf.ko for a real host.
TOP := $(CURDIR)
KVARIANT ?= normal
AVF_CACHE ?= $(HOME)/.cache/avf
export AVF_CACHE

# Components, each with its own Makefile (all, test; SAN=1 for ASan+UBSan).
USER_DIRS := userspace/lib userspace/vmm userspace/avfctl payload selftests/avf selftests/vm selftests/api

.PHONY: all kernel kernel-debug module user user-asan check soak demo bench clean help

all: module user

help:
	@sed -n '3,14p' Makefile

kernel:
	@kernel/build.sh normal >/dev/null
	@kernel/build.sh debug >/dev/null

# avf.ko is built out of tree in build/kmod/<variant>/ (a copy of kmod/),
# so that the normal and debug kernels each get their own objects.
ifeq ($(KDIR),)
module:
	@for v in $(KVARIANT); do \
		kdir=$$(kernel/build.sh $$v) || exit 1; \
		$(MAKE) --no-print-directory module-one KDIR=$$kdir OUTMOD=$(TOP)/build/kmod/$$v || exit 1; \
	done
else
module:
	@$(MAKE) --no-print-directory module-one KDIR=$(KDIR) OUTMOD=$(TOP)/build/kmod/custom
endif

.PHONY: module-one
module-one:
	@mkdir -p $(OUTMOD)
	@rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' --exclude='*.mod*' \
		--exclude=Module.symvers --exclude=modules.order kmod/ $(OUTMOD)/src/
	@$(MAKE) --no-print-directory -C $(KDIR) M=$(OUTMOD)/src AVF_INC=$(TOP)/include modules
	@cp $(OUTMOD)/src/avf.ko $(OUTMOD)/avf.ko
	@if [ -f $(OUTMOD)/src/avf_test.ko ]; then cp $(OUTMOD)/src/avf_test.ko $(OUTMOD)/; fi
	@echo "module: $(OUTMOD)/avf.ko"

user:
	@for d in $(USER_DIRS); do [ -f $$d/Makefile ] && { $(MAKE) --no-print-directory -C $$d || exit 1; }; done; true

user-asan:
	@for d in $(USER_DIRS); do [ -f $$d/Makefile ] && { $(MAKE) --no-print-directory -C $$d SAN=1 || exit 1; }; done; true

check:
	@tools/check.sh

# The long soak (make check runs 2 cycles and a 16 MiB log flood):
# SOAK_CYCLES cycles of 3 VMs at once and the full 100 MiB flood.
SOAK_CYCLES ?= 20
soak:
	@mkdir -p build/user/vmm && cp -u "$$(kernel/build.sh normal)/vmlinux" build/user/vmm/guest-vmlinux
	@testhost/run --kernel normal --timeout 3600 -- env AVF_SOAK_CYCLES=$(SOAK_CYCLES) \
		AVF_FLOOD_MIB=100 selftests/vm/run.sh -t soak_cycles_return_to_baseline \
		-t payload_log_backpressure_loses_nothing

demo:
	@tools/demo.sh

bench:
	@tools/bench.sh

clean:
	rm -rf build
