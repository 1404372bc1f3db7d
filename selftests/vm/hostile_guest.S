/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A hostile guest for avf-vmm: no Linux, just 32-bit code entered through
 * PVH. It abuses the virtio-mmio devices and reports on the serial port
 * what the VMM did, then triple-faults:
 *   - sweeps every register of the vsock device at widths 1 and 4;
 *   - virtio-blk: queue registers after DRIVER_OK, a looping descriptor
 *     chain  -> must see DEVICE_NEEDS_RESET;
 *   - virtio-vsock: avail index 100 ahead on an 8-entry queue -> NEEDS_RESET;
 *   - virtio-console: a descriptor outside guest RAM -> NEEDS_RESET;
 *   - virtio-blk again after a reset: a valid read of sector 0 -> OK and
 *     the first byte of the package is 'A';
 *   - the ACPI PM ports and their neighbours (0x5f8-0x617) written and read
 *     at widths 1, 2 and 4 -> PM1a_CNT still has SCI_EN, the PM timer
 *     stays 24 bits and advances;
 *   - triple fault (empty IDT + int3): the VMM reports STOPPED(REBOOT).
 * Lines printed: "<test>: ok" or "<test>: FAIL".
 */
#define MMIO(slot)	(0xd0000000 + (slot) * 0x1000)
#define R_QSEL		0x30
#define R_QNUM		0x38
#define R_QREADY	0x44
#define R_NOTIFY	0x50
#define R_STATUS	0x70
#define R_DESC		0x80
#define R_AVAIL		0x90
#define R_USED		0xa0
#define R_FSEL		0x24
#define R_FEAT		0x20
#define DESC		0x200000
#define AVAIL		0x201000
#define USED		0x202000
#define BUF		0x300000

	.code32
	.section .text
	.globl _start
_start:
	mov	$0x90000, %esp

	/* 1. sweep the vsock registers (slot 4) */
	mov	$MMIO(4), %edi
1:	mov	(%edi), %eax
	movl	$0xffffffff, (%edi)
	movb	$0xff, 1(%edi)
	movw	$0xffff, 2(%edi)
	add	$4, %edi
	cmp	$MMIO(4) + 0x1000, %edi
	jb	1b
	movl	$0, MMIO(4) + R_STATUS
	cmpl	$0x74726976, MMIO(4)		/* still answers with the magic */
	mov	$msg_sweep, %esi
	call	result

	/* 2. blk (slot 3): looping chain */
	mov	$MMIO(3), %ebx
	call	bring_up
	movl	$0x1000, R_QNUM(%ebx)		/* ignored after DRIVER_OK */
	movl	$0xfffff000, R_DESC(%ebx)	/* ignored after DRIVER_OK */
	mov	$DESC, %edi
	movl	$BUF, 0(%edi)
	movl	$0, 4(%edi)
	movl	$16, 8(%edi)
	movw	$1, 12(%edi)			/* NEXT */
	movw	$1, 14(%edi)			/* -> 1 */
	movl	$BUF, 16(%edi)
	movl	$0, 20(%edi)
	movl	$16, 24(%edi)
	movw	$1, 28(%edi)
	movw	$0, 30(%edi)			/* -> 0: a loop */
	movw	$0, AVAIL + 4
	movw	$1, AVAIL + 2
	movl	$0, R_NOTIFY(%ebx)
	call	wait_needs_reset
	mov	$msg_loop, %esi
	call	result

	/* 3. vsock (slot 4): avail index jump */
	mov	$MMIO(4), %ebx
	call	bring_up
	movw	$100, AVAIL + 2
	movl	$0, R_NOTIFY(%ebx)
	call	wait_needs_reset
	mov	$msg_jump, %esi
	call	result

	/* 4. console (slot 0): buffer outside RAM */
	mov	$MMIO(0), %ebx
	call	bring_up
	mov	$DESC, %edi
	movl	$0xfffff000, 0(%edi)
	movl	$0, 4(%edi)
	movl	$0x2000, 8(%edi)
	movw	$0, 12(%edi)
	movw	$0, AVAIL + 4
	movw	$1, AVAIL + 2
	movl	$1, R_QSEL(%ebx)
	movl	$0, R_NOTIFY(%ebx)
	call	wait_needs_reset
	mov	$msg_oob, %esi
	call	result

	/* 5. blk after reset: read sector 0 */
	mov	$MMIO(3), %ebx
	call	bring_up
	mov	$DESC, %edi
	movl	$0, BUF				/* VIRTIO_BLK_T_IN */
	movl	$0, BUF + 4
	movl	$0, BUF + 8			/* sector 0 */
	movl	$0, BUF + 12
	movb	$0xee, BUF + 0x1000		/* status */
	movl	$BUF, 0(%edi)
	movl	$0, 4(%edi)
	movl	$16, 8(%edi)
	movw	$1, 12(%edi)
	movw	$1, 14(%edi)
	movl	$BUF + 0x800, 16(%edi)
	movl	$0, 20(%edi)
	movl	$512, 24(%edi)
	movw	$3, 28(%edi)			/* NEXT | WRITE */
	movw	$2, 30(%edi)
	movl	$BUF + 0x1000, 32(%edi)
	movl	$0, 36(%edi)
	movl	$1, 40(%edi)
	movw	$2, 44(%edi)			/* WRITE */
	movw	$0, 46(%edi)
	movw	$0, AVAIL + 4
	movw	$1, AVAIL + 2
	movl	$0, R_NOTIFY(%ebx)
	mov	$100000000, %ecx
2:	cmpw	$1, USED + 2
	je	3f
	loop	2b
3:	cmpb	$0, BUF + 0x1000
	jne	4f
	cmpb	$'A', BUF + 0x800
4:	mov	$msg_read, %esi
	call	result

#ifdef FLOOD
	/*
	 * 7. flood: 100 MiB through hvc0 in 64 KiB buffers, then 128 KiB
	 * through the UART, with nobody reading on the host side.
	 */
	mov	$MMIO(0), %ebx
	call	bring_up
	mov	$DESC, %edi
	xor	%eax, %eax
11:	movl	$BUF, 0(%edi, %eax, 8)		/* desc[i/2]: 16 bytes apart */
	movl	$0, 4(%edi, %eax, 8)
	movl	$0x10000, 8(%edi, %eax, 8)
	movl	$0, 12(%edi, %eax, 8)
	add	$2, %eax
	cmp	$16, %eax
	jb	11b
	mov	$BUF, %edi			/* fill the buffer with text */
	mov	$0x4000, %ecx
	mov	$0x0a787878, %eax		/* "xxx\n" */
	rep stosl
	xor	%esi, %esi			/* chains published */
12:	mov	%esi, %eax			/* wait until fewer than 8 in flight */
	sub	USED + 2, %ax
	cmp	$8, %ax
	jae	12b
	mov	%esi, %eax
	and	$7, %eax
	mov	%ax, AVAIL + 4(, %eax, 2)	/* ring[i % 8] = i % 8 */
	inc	%esi
	mov	%si, AVAIL + 2
	movl	$1, R_QSEL(%ebx)
	movl	$1, R_NOTIFY(%ebx)
	cmp	$1600, %esi			/* 1600 x 64 KiB = 100 MiB */
	jb	12b
13:	cmpw	$1600, USED + 2
	jne	13b
	mov	$msg_flood, %esi
	call	puts
	mov	$0x3f8, %dx
	mov	$0x20000, %ecx
	mov	$'y', %al
14:	outb	%al, %dx
	loop	14b
	mov	$'\n', %al
	outb	%al, %dx
#endif

	/* 6. the ACPI PM ports (Documentation/vmm.rst, "ACPI") */
	mov	$0x5f8, %edx
15:	mov	$0xffffffff, %eax
	outb	%al, %dx
	outw	%ax, %dx
	outl	%eax, %dx
	inb	%dx, %al
	inw	%dx, %ax
	inl	%dx, %eax
	inc	%edx
	cmp	$0x618, %edx
	jb	15b
	mov	$0x604, %dx
	inw	%dx, %ax
	and	$1, %eax
	cmp	$1, %eax			/* SCI_EN */
	jne	16f
	mov	$0x608, %dx
	inl	%dx, %eax
	mov	%eax, %ebx
	test	$0xff000000, %eax		/* 24 bits */
	jnz	16f
	mov	$1000000, %ecx
17:	inl	%dx, %eax
	cmp	%eax, %ebx
	jne	18f
	loop	17b
	or	$1, %ecx			/* ZF=0: it never moved */
	jmp	16f
18:	cmp	%eax, %eax			/* ZF=1 */
16:	mov	$msg_pm, %esi
	call	result

	/* 7. triple fault */
	mov	$msg_bye, %esi
	call	puts
	lidt	null_idt
	int3
	hlt

/* Reset the device at %ebx and bring queue 0 and 1 up on DESC/AVAIL/USED. */
bring_up:
	movl	$0, R_STATUS(%ebx)
	mov	$DESC, %edi
	mov	$0x3000, %ecx
	xor	%eax, %eax
	rep stosl
	movl	$1, R_STATUS(%ebx)
	movl	$3, R_STATUS(%ebx)
	movl	$1, R_FSEL(%ebx)
	movl	$1, R_FEAT(%ebx)		/* VERSION_1 */
	movl	$0, R_FSEL(%ebx)
	movl	$0, R_FEAT(%ebx)
	movl	$0xb, R_STATUS(%ebx)
	xor	%eax, %eax
5:	mov	%eax, R_QSEL(%ebx)
	movl	$8, R_QNUM(%ebx)
	movl	$DESC, R_DESC(%ebx)
	movl	$0, R_DESC + 4(%ebx)
	movl	$AVAIL, R_AVAIL(%ebx)
	movl	$0, R_AVAIL + 4(%ebx)
	movl	$USED, R_USED(%ebx)
	movl	$0, R_USED + 4(%ebx)
	movl	$1, R_QREADY(%ebx)
	inc	%eax
	cmp	$2, %eax
	jb	5b
	movl	$0, R_QSEL(%ebx)
	movl	$0xf, R_STATUS(%ebx)
	ret

/* ZF=1 once Status has DEVICE_NEEDS_RESET (bounded wait). */
wait_needs_reset:
	mov	$100000000, %ecx
6:	testl	$0x40, R_STATUS(%ebx)
	jnz	7f
	loop	6b
	or	$1, %ecx			/* ZF=0: timed out */
	ret
7:	cmp	%eax, %eax			/* ZF=1 */
	ret

/* Print the name at %esi, then ": ok" if ZF else ": FAIL". */
result:
	pushf
	call	puts
	popf
	mov	$msg_ok, %esi
	je	8f
	mov	$msg_fail, %esi
8:	jmp	puts

puts:
	mov	$0x3f8, %dx
9:	lodsb
	test	%al, %al
	jz	10f
	outb	%al, %dx
	jmp	9b
10:	ret

	.section .rodata
null_idt:
	.word	0
	.long	0
msg_sweep:	.asciz	"mmio-sweep"
msg_loop:	.asciz	"blk-loop-needs-reset"
msg_jump:	.asciz	"vsock-avail-jump-needs-reset"
msg_oob:	.asciz	"console-oob-needs-reset"
msg_read:	.asciz	"blk-read-after-reset"
msg_ok:		.asciz	": ok\n"
msg_fail:	.asciz	": FAIL\n"
msg_bye:	.asciz	"triple-fault\n"
msg_flood:	.asciz	"flood-done\n"
msg_pm:		.asciz	"acpi-pm-ports"

	.section .note.Xen, "a", @note
	.balign 4
	.long	4
	.long	4
	.long	18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
	.long	_start
