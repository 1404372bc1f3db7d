/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 8250/16550A UART at 0x3f8, output only: THR is always empty, there is
 * never receive data. Enough for the Linux 8250 driver to probe it and to
 * use it as a (polled or THRE-interrupt driven) console.
 */
#ifndef AVF_VMM_SERIAL_H
#define AVF_VMM_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "outsink.h"

struct serial {
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thri_pending;
	bool irq_level;
	void (*set_irq)(void *opaque, bool level);
	void *opaque;
	struct outsink *out;
};

void serial_init(struct serial *s, struct outsink *out, void (*set_irq)(void *, bool),
		 void *opaque);
/* vCPU thread: one byte access at @off (0..7) of the register block. */
uint8_t serial_in(struct serial *s, unsigned int off);
void serial_out(struct serial *s, unsigned int off, uint8_t val);

#endif
