// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the split-virtqueue walker over guest-controlled rings. */
#include <stdint.h>

#include "fuzz_guest.h"
#include "virtq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vq_chain c;
	struct guest_mem m;
	struct virtq vq;
	volatile uint8_t sink = 0;
	unsigned int i, s;
	int ret;

	if (size < 1)
		return 0;
	fz_mem(&m, data + 1, size - 1);
	virtq_reset(&vq);
	vq.size = (uint16_t)(1U << (data[0] % 9));	/* 1..256 */
	vq.desc_gpa = 0;
	vq.avail_gpa = 0x1000 * 4;	/* room for 256 descriptors */
	vq.used_gpa = 0x1000 * 5;
	if (virtq_activate(&vq, &m, data[0] & 0x80) == 0) {
		for (i = 0; i < 2U * vq.size; i++) {
			ret = virtq_pop(&vq, &m, &c);
			if (ret <= 0)
				break;
			/* Touch every byte range the walker handed out. */
			for (s = 0; s < c.nseg; s++)
				sink ^= c.seg[s].addr[0] ^ c.seg[s].addr[c.seg[s].len - 1];
			if (virtq_push(&vq, &m, c.head, (uint32_t)c.in_bytes))
				break;
		}
	}
	(void)sink;
	free(m.host);
	return 0;
}
