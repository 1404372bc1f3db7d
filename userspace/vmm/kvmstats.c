// SPDX-License-Identifier: GPL-2.0
/*
 * KVM binary statistics (Documentation/virt/kvm/api.rst, KVM_GET_STATS_FD):
 * a header, descriptors with names, and u64 values read with pread(). The
 * descriptors are read once at set-up; a read of the values is one pread
 * per counter, allowed by every thread's seccomp role.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "kvmstats.h"

const char *const kvmstats_names[KST_COUNT] = {
	[KST_EXITS] = "exits",
	[KST_IO_EXITS] = "io_exits",
	[KST_MMIO_EXITS] = "mmio_exits",
	[KST_HALT_EXITS] = "halt_exits",
	[KST_INSN_EMULATION] = "insn_emulation",
	[KST_PF_TAKEN] = "pf_taken",
};

#define KST_DESC_MAX	4096	/* sanity bounds on what the kernel reports */
#define KST_NAME_MAX	1024

int kvmstats_open(int vcpu_fd, struct kvm_stats *s)
{
	struct kvm_stats_header h;
	size_t dsize, i;
	char *descs = NULL;
	int fd, k, ret = 0;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return -errno;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || !h.name_size ||
	    h.name_size > KST_NAME_MAX || h.num_desc > KST_DESC_MAX) {
		ret = -EPROTO;
		goto fail;
	}
	dsize = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = calloc(h.num_desc, dsize);
	if (!descs) {
		ret = -ENOMEM;
		goto fail;
	}
	if (pread(fd, descs, dsize * h.num_desc, h.desc_offset) != (ssize_t)(dsize * h.num_desc)) {
		ret = -EPROTO;
		goto fail;
	}
	for (i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (struct kvm_stats_desc *)(descs + i * dsize);

		d->name[h.name_size - 1] = 0;
		if (d->size < 1)
			continue;
		for (k = 0; k < KST_COUNT; k++)
			if (!strcmp(d->name, kvmstats_names[k]))
				s->off[k] = (uint64_t)h.data_offset + d->offset;
	}
	free(descs);
	s->fd = fd;
	return 0;
fail:
	free(descs);
	close(fd);
	return ret;
}

void kvmstats_add(const struct kvm_stats *s, uint64_t sum[KST_COUNT])
{
	uint64_t v;
	int k;

	if (s->fd <= 0)
		return;
	for (k = 0; k < KST_COUNT; k++)
		if (s->off[k] && pread(s->fd, &v, sizeof(v), (off_t)s->off[k]) == (ssize_t)sizeof(v))
			sum[k] += v;
}

void kvmstats_close(struct kvm_stats *s)
{
	if (s->fd > 0)	/* 0: a zeroed struct that was never opened */
		close(s->fd);
	s->fd = -1;
}
