// SPDX-License-Identifier: GPL-2.0
/*
 * A bare PVH guest (no Linux) with a polling virtio-vsock driver that
 * accepts every connection and echoes what it receives: the other end of
 * the vsock data-path test. Built as 32-bit code inside an ELF64 image
 * (see the Makefile). Prints progress on the UART.
 */
#include <stdint.h>

#define MMIO		0xd0004000u	/* slot 4: virtio-vsock */
#define Q_BASE		0x200000u	/* queue q: desc, +0x100 avail, +0x200 used */
#define RX_BUF		0x300000u
#define TX_BUF		0x400000u
#define BUF_BYTES	0x2000u
#define QSZ		8
#define MY_BUF_ALLOC	0x10000u

#define OP_REQUEST	1
#define OP_RESPONSE	2
#define OP_RST		3
#define OP_SHUTDOWN	4
#define OP_RW		5
#define OP_CREDIT_UPDATE 6
#define OP_CREDIT_REQUEST 7

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct avail { uint16_t flags, idx, ring[QSZ]; };
struct used_elem { uint32_t id, len; };
struct used { uint16_t flags, idx; struct used_elem ring[QSZ]; };
struct hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

__asm__(".globl _start\n"
	"_start:\n"
	"	mov $0x90000, %esp\n"
	"	call guest_main\n"
	"1:	hlt\n"
	"	jmp 1b\n"
	".pushsection .note.Xen, \"a\", @note\n"
	"	.balign 4\n"
	"	.long 4\n"
	"	.long 4\n"
	"	.long 18\n"
	"	.asciz \"Xen\"\n"
	"	.long _start\n"
	".popsection\n");

void guest_main(void);
void *memcpy(void *d, const void *s, unsigned int n);
void *memset(void *d, int c, unsigned int n);

void *memcpy(void *d, const void *s, unsigned int n)
{
	uint8_t *dd = d;
	const uint8_t *ss = s;

	while (n--)
		*dd++ = *ss++;
	return d;
}

void *memset(void *d, int c, unsigned int n)
{
	uint8_t *dd = d;

	while (n--)
		*dd++ = (uint8_t)c;
	return d;
}

static inline void reg_w(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(MMIO + off) = v;
}

static inline uint32_t reg_r(uint32_t off)
{
	return *(volatile uint32_t *)(MMIO + off);
}

static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

static void puts_uart(const char *s)
{
	while (*s)
		__asm__ volatile("outb %0, %1" : : "a"(*s++), "Nd"((uint16_t)0x3f8));
}

#define DESC(q)		((volatile struct desc *)(Q_BASE + (q) * 0x1000))
#define AVAIL(q)	((volatile struct avail *)(Q_BASE + (q) * 0x1000 + 0x100))
#define USED(q)		((volatile struct used *)(Q_BASE + (q) * 0x1000 + 0x200))

static uint32_t cid, fwd_cnt;
static uint16_t tx_idx;

static void notify(uint32_t q)
{
	barrier();
	reg_w(0x50, q);
}

static void send(const volatile struct hdr *in, uint16_t op, const uint8_t *data, uint32_t len)
{
	uint16_t slot = tx_idx % QSZ;
	struct hdr *h = (struct hdr *)(TX_BUF + slot * BUF_BYTES);

	while ((uint16_t)(tx_idx - USED(1)->idx) >= QSZ)
		barrier();
	h->src_cid = cid;
	h->dst_cid = in->src_cid;
	h->src_port = in->dst_port;
	h->dst_port = in->src_port;
	h->len = len;
	h->type = 1;
	h->op = op;
	h->flags = 0;
	h->buf_alloc = MY_BUF_ALLOC;
	h->fwd_cnt = fwd_cnt;
	if (len)
		memcpy(h + 1, data, len);
	DESC(1)[slot].addr = (uint32_t)h;
	DESC(1)[slot].len = (uint32_t)sizeof(*h) + len;
	DESC(1)[slot].flags = 0;
	AVAIL(1)->ring[tx_idx % QSZ] = slot;
	tx_idx++;
	barrier();
	AVAIL(1)->idx = tx_idx;
	notify(1);
}

void guest_main(void)
{
	uint16_t rx_seen = 0, i;
	uint32_t q;

	reg_w(0x70, 0);
	reg_w(0x70, 1);
	reg_w(0x70, 3);
	reg_w(0x24, 1);
	reg_w(0x20, 1);		/* VERSION_1 */
	reg_w(0x24, 0);
	reg_w(0x20, 0);
	reg_w(0x70, 0xb);
	memset((void *)Q_BASE, 0, 0x3000);
	for (q = 0; q < 3; q++) {
		reg_w(0x30, q);
		reg_w(0x38, QSZ);
		reg_w(0x80, Q_BASE + q * 0x1000);
		reg_w(0x84, 0);
		reg_w(0x90, Q_BASE + q * 0x1000 + 0x100);
		reg_w(0x94, 0);
		reg_w(0xa0, Q_BASE + q * 0x1000 + 0x200);
		reg_w(0xa4, 0);
		reg_w(0x44, 1);
	}
	reg_w(0x70, 0xf);
	if (!(reg_r(0x70) & 4)) {
		puts_uart("echo: device refused DRIVER_OK\n");
		return;
	}
	cid = reg_r(0x100);
	for (i = 0; i < QSZ; i++) {
		DESC(0)[i].addr = RX_BUF + i * BUF_BYTES;
		DESC(0)[i].len = BUF_BYTES;
		DESC(0)[i].flags = 2;	/* WRITE */
		AVAIL(0)->ring[i] = i;
	}
	barrier();
	AVAIL(0)->idx = QSZ;
	notify(0);
	puts_uart("echo: ready\n");

	for (;;) {
		volatile struct hdr *h;
		uint32_t id;

		while (USED(0)->idx == rx_seen)
			barrier();
		id = USED(0)->ring[rx_seen % QSZ].id;
		rx_seen++;
		h = (volatile struct hdr *)(RX_BUF + id * BUF_BYTES);
		switch (h->op) {
		case OP_REQUEST:
			puts_uart("echo: connection\n");
			send(h, OP_RESPONSE, 0, 0);
			break;
		case OP_RW:
			fwd_cnt += h->len;
			send(h, OP_RW, (const uint8_t *)(h + 1), h->len);
			break;
		case OP_CREDIT_REQUEST:
			send(h, OP_CREDIT_UPDATE, 0, 0);
			break;
		case OP_SHUTDOWN:
			puts_uart("echo: shutdown\n");
			send(h, OP_RST, 0, 0);
			break;
		default:
			break;
		}
		/* Give the buffer back. */
		AVAIL(0)->ring[AVAIL(0)->idx % QSZ] = (uint16_t)id;
		barrier();
		AVAIL(0)->idx = AVAIL(0)->idx + 1;
		notify(0);
	}
}
