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
#   make install    install into DESTDIR PREFIX (default /usr/local) LIBDIR
#   make uninstall  remove what make install installed (same variables)
#
# KDIR=/lib/modules/$(uname -r)/build builds avf.ko for a real host.
TOP := $(CURDIR)
KVARIANT ?= normal
AVF_CACHE ?= $(HOME)/.cache/avf
export AVF_CACHE

# Components, each with its own Makefile (all, test; SAN=1 for ASan+UBSan).
USER_DIRS := userspace/lib userspace/vmm userspace/avfctl payload selftests/avf selftests/vm selftests/api bench

.PHONY: all kernel kernel-debug module user user-asan check soak demo bench clean help install uninstall

all: module user

help:
	@sed -n '3,14p' Makefile

kernel:
	@kernel/build.sh normal >/dev/null
	@kernel/build.sh debug >/dev/null
	@kernel/build.sh guest >/dev/null

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
	@$(MAKE) --no-print-directory -C $(KDIR) M=$(OUTMOD)/src AVF_INC=$(TOP)/include \
		AVF_VERSION=$$(cat VERSION) AVF_WERROR=$(AVF_WERROR) modules
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
# SOAK_CYCLES cycles of 3 VMs at once and the full 100 MiB flood; then
# SOAK_BOOTS hello boots through libavf (make check runs 100) with no
# unexplained guest reset; rpc_test at its full sizes (10,000 sequential
# calls, 8 clients x 200; make check runs the same since issue 12's fix).
SOAK_CYCLES ?= 20
SOAK_BOOTS ?= 1000
soak:
	@mkdir -p build/user/vmm && cp -u "$$(kernel/build.sh guest)/vmlinux" build/user/vmm/guest-vmlinux
	@testhost/run --kernel normal --timeout 3600 -- env AVF_SOAK_CYCLES=$(SOAK_CYCLES) \
		AVF_FLOOD_MIB=100 selftests/vm/run.sh -t soak_cycles_return_to_baseline \
		-t payload_log_backpressure_loses_nothing
	@testhost/run --kernel normal --timeout 14400 -- env AVF_TEST_BOOTS=$(SOAK_BOOTS) \
		build/user/tests/api/api_test -t hundred_boots_without_unexplained_reset
	@testhost/run --kernel normal --timeout 3600 -- env AVF_TEST_RPC_CALLS=10000 \
		AVF_TEST_RPC_CLIENT_CALLS=200 build/user/tests/api/rpc_test

demo:
	@tools/demo.sh

bench:
	@tools/bench.sh

# ---- install (FHS) ----
# Installed binaries are built apart (build/dist, AVF_DEVEL=0): they know
# only the install directories, never this tree.
include $(TOP)/userspace/dirs.mk
# arch-independent system configuration: under PREFIX/lib (udev, sysusers
# and modprobe read /usr/lib and /usr/local/lib); DKMS wants /usr/src.
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
MODPROBEDIR ?= $(PREFIX)/lib/modprobe.d
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DKMSSRCDIR ?= /usr/src
AVF_VERSION := $(shell cat VERSION)
DKMSDIR := $(DKMSSRCDIR)/avf-$(AVF_VERSION)
GUEST_KERNEL ?= $(shell kernel/build.sh guest 2>/dev/null)/vmlinux
INSTALL_DIRS := userspace/lib userspace/avfctl userspace/vmm payload
DIST := OUT=$(TOP)/build/dist AVF_DEVEL=0 NO_API_TESTS=1 PREFIX=$(PREFIX) BINDIR=$(BINDIR) \
	LIBDIR=$(LIBDIR) LIBEXECDIR=$(LIBEXECDIR) DATADIR=$(DATADIR) INCLUDEDIR=$(INCLUDEDIR) \
	MANDIR=$(MANDIR) DESTDIR=$(DESTDIR)

install:
	@test -f "$(GUEST_KERNEL)" || { echo "install: guest kernel $(GUEST_KERNEL) missing (kernel/build.sh guest, or GUEST_KERNEL=)"; exit 1; }
	install -d $(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(MODPROBEDIR) \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(LIBEXECDIR)/avf $(DESTDIR)$(DATADIR)/avf $(DESTDIR)$(DKMSDIR)
	install -m 0644 udev/60-avf.rules $(DESTDIR)$(UDEVRULESDIR)/60-avf.rules
	install -m 0644 systemd/avf.sysusers $(DESTDIR)$(SYSUSERSDIR)/avf.conf
	# the persistent device secret: made at boot, given to avf.ko by modprobe
	sed 's|@LIBEXECDIR@|$(LIBEXECDIR)|' systemd/avf-modprobe.conf >$(DESTDIR)$(MODPROBEDIR)/avf.conf
	sed 's|@LIBEXECDIR@|$(LIBEXECDIR)|' systemd/avf-secret.service >$(DESTDIR)$(SYSTEMDUNITDIR)/avf-secret.service
	install -m 0755 systemd/avf-secret $(DESTDIR)$(LIBEXECDIR)/avf/avf-secret
	install -d $(DESTDIR)$(MANDIR)/man8 && install -m 0644 systemd/avf-secret.8 $(DESTDIR)$(MANDIR)/man8/
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null; then \
		echo "systemd-sysusers $(SYSUSERSDIR)/avf.conf"; systemd-sysusers $(SYSUSERSDIR)/avf.conf; fi
	install -m 0644 $(GUEST_KERNEL) $(DESTDIR)$(DATADIR)/avf/vmlinux
	@for d in $(INSTALL_DIRS); do $(MAKE) --no-print-directory -C $$d $(DIST) install || exit 1; done
	# the DKMS source tree: dkms add/build/install avf/$(AVF_VERSION)
	rm -rf $(DESTDIR)$(DKMSDIR) && install -d $(DESTDIR)$(DKMSDIR)/kmod/tests \
		$(DESTDIR)$(DKMSDIR)/include/uapi/linux
	install -m 0644 Kbuild VERSION LICENSE $(DESTDIR)$(DKMSDIR)/
	sed 's|@VERSION@|$(AVF_VERSION)|' dkms.conf >$(DESTDIR)$(DKMSDIR)/dkms.conf
	install -m 0644 kmod/Kbuild kmod/*.c kmod/*.h $(DESTDIR)$(DKMSDIR)/kmod/
	install -m 0644 kmod/tests/*.c $(DESTDIR)$(DKMSDIR)/kmod/tests/
	install -m 0644 include/uapi/linux/avf.h $(DESTDIR)$(DKMSDIR)/include/uapi/linux/

uninstall:
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && [ -e $(SYSTEMDUNITDIR)/avf-secret.service ] && \
		command -v systemctl >/dev/null; then echo "systemctl disable avf-secret.service"; \
		systemctl disable avf-secret.service || true; fi
	@for d in $(INSTALL_DIRS); do $(MAKE) --no-print-directory -C $$d $(DIST) uninstall || exit 1; done
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-avf.rules $(DESTDIR)$(SYSUSERSDIR)/avf.conf \
		$(DESTDIR)$(MODPROBEDIR)/avf.conf $(DESTDIR)$(DATADIR)/avf/vmlinux \
		$(DESTDIR)$(SYSTEMDUNITDIR)/avf-secret.service $(DESTDIR)$(LIBEXECDIR)/avf/avf-secret \
		$(DESTDIR)$(MANDIR)/man8/avf-secret.8
	rm -rf $(DESTDIR)$(DKMSDIR)
	-rmdir $(DESTDIR)$(DATADIR)/avf $(DESTDIR)$(LIBEXECDIR)/avf 2>/dev/null

clean:
	rm -rf build
