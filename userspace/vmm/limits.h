/* SPDX-License-Identifier: GPL-2.0 */
/*
 * avf-vmm: every limit, address and timeout in one place.
 */
#ifndef AVF_VMM_LIMITS_H
#define AVF_VMM_LIMITS_H

/* Guest RAM. RAM must stay below the MMIO window at VIRTIO_MMIO_BASE. */
#define VMM_MEM_DEFAULT_MIB	256
#define VMM_MEM_MIN_MIB		32
#define VMM_MEM_MAX_MIB		3072
#define VMM_CPUS_MAX		8

/* Guest physical layout (below 1 MiB). */
#define GPA_GDT			0x500ULL
#define GPA_START_INFO		0x6000ULL
#define GPA_MODLIST		0x6100ULL
#define GPA_MEMMAP		0x6200ULL
#define GPA_CMDLINE		0x20000ULL
#define CMDLINE_MAX		4096
#define GPA_EBDA		0x9fc00ULL	/* MP table lives here */
#define GPA_EBDA_END		0xa0000ULL
#define GPA_ACPI		0xe0000ULL	/* ACPI tables (acpi.c) */
#define GPA_ACPI_SIZE		0x1000ULL
#define GPA_HIGH_RAM		0x100000ULL
#define GPA_TSS_ADDR		0xfffbd000ULL	/* KVM_SET_TSS_ADDR (VMX only) */
#define GPA_IOAPIC		0xfec00000ULL
#define GPA_LAPIC		0xfee00000ULL
#define MEMMAP_MAX_ENTRIES	8

/* virtio-mmio window (Documentation/interfaces.rst). */
#define VIRTIO_MMIO_BASE	0xd0000000ULL
#define VIRTIO_MMIO_SIZE	0x1000ULL
#define VIRTIO_MMIO_IRQ_BASE	5
#define VIRTIO_MMIO_SLOTS	6

/* Legacy PC devices. */
#define SERIAL_PORT_BASE	0x3f8
#define SERIAL_IRQ		4
/* Reset control register: the guest's restart with reboot=p writes RST_CPU. */
#define RESET_CONTROL_PORT	0xcf9
#define RESET_CONTROL_RST_CPU	0x04

/* Virtqueues. */
#define VQ_SIZE_MAX		256	/* QueueNumMax offered to the driver */
#define VQ_CHAIN_MAX		VQ_SIZE_MAX /* segments per request incl. indirect */
#define VQ_MAX_QUEUES		3

/* virtio-console: bytes buffered per output stream before dropping. */
#define CONSOLE_RING_BYTES	(64 * 1024)
/* Largest single write to an output sink (<= PIPE_BUF: never blocks after POLLOUT). */
#define CONSOLE_WRITE_CHUNK	4096
/* End of a run: the payload log's reader gets this long per write to take the rest. */
#define LOG_FINAL_DRAIN_IDLE_MS	10000
/* How often a changed drop/refusal count reaches the owner's VM info. */
#define STATS_PERIOD_MS		500

/* virtio-blk. */
#define BLK_SECTOR_SHIFT	9
#define BLK_SECTOR_SIZE		(1U << BLK_SECTOR_SHIFT)
#define BLK_ID_BYTES		20
#define BLK_MAX_REQUEST_BYTES	(4U << 20)

/* virtio-vsock. */
#define VSOCK_HOST_CID		2
#define VSOCK_PKT_PAYLOAD_MAX	(64 * 1024)
#define VSOCK_PENDING_MAX	128	/* queued control replies (RST) */
#define VSOCK_CONN_MAX		64	/* host-initiated connections per VM */
#define VSOCK_CONN_BUF		(256 * 1024) /* buf_alloc advertised to the guest */
#define VSOCK_CREDIT_THRESHOLD	(VSOCK_CONN_BUF / 4) /* consumed bytes before CREDIT_UPDATE */
#define VSOCK_LOCAL_PORT_FIRST	0x40000000U /* host ports of host-initiated connections */
#define VSOCK_CONNECT_TIMEOUT_MS 5000	/* guest must answer a REQUEST within */
/*
 * Brokered requests: the requester's own timeout (at most
 * AVF_CONNECT_TIMEOUT_MAX_MS, kept by the module) governs; this bound
 * only frees the slot of a guest that never answers.
 */
#define VSOCK_BROKERED_TIMEOUT_MS 120000
/* A closing connection (SHUTDOWN both sent) waits this long for the guest's RST. */
#define VSOCK_SHUTDOWN_TIMEOUT_MS 10000
/* A connection with work pending and no progress this long is logged (once). */
#define VSOCK_STALL_LOG_MS	10000
#define VSOCK_HANDSHAKE_MAX	32	/* "CONNECT <port>\n" on the development socket */

/*
 * Life-cycle. The hang-up (boot) timeout: PAYLOAD_STARTED within 30 s on
 * real KVM, x4 when avf-vmm itself runs under a hypervisor (nested), x10
 * under a CPU emulator (QEMU TCG); --hangup-timeout S overrides (hostvirt.c).
 */
/* --profile: a guest RIP sample per vCPU every period, at most MAX a vCPU. */
#define VM_PROFILE_PERIOD_US		1000
#define VM_PROFILE_MAX_SAMPLES		(1U << 18)	/* 4 MiB a vCPU, 262 s at 1 kHz */

#define HANGUP_TIMEOUT_DEFAULT_S	30
#define HANGUP_FACTOR_NESTED		4
#define HANGUP_FACTOR_EMULATED		10
#define STOP_JOIN_TIMEOUT_MS		2000

/* Exit status (Documentation/interfaces.rst). */
#define EXIT_VMM_OK		0
#define EXIT_VMM_USAGE		64
#define EXIT_VMM_UNAVAILABLE	69
#define EXIT_VMM_INTERNAL	70

#define AVF_XSTR(x)		#x
#define AVF_STR(x)		AVF_XSTR(x)

#endif
