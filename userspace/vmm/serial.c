// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include <linux/serial_reg.h>

#include "serial.h"

void serial_init(struct serial *s, struct outsink *out, void (*set_irq)(void *, bool),
		 void *opaque)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->out = out;
	s->set_irq = set_irq;
	s->opaque = opaque;
	s->mcr = UART_MCR_OUT2;
}

/* Lock held. */
static void update_irq(struct serial *s)
{
	bool level = (s->ier & UART_IER_THRI) && s->thri_pending;

	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->set_irq)
			s->set_irq(s->opaque, level);
	}
}

static uint8_t msr_loopback(uint8_t mcr)
{
	uint8_t msr = 0;

	if (mcr & UART_MCR_RTS)
		msr |= UART_MSR_CTS;
	if (mcr & UART_MCR_DTR)
		msr |= UART_MSR_DSR;
	if (mcr & UART_MCR_OUT1)
		msr |= UART_MSR_RI;
	if (mcr & UART_MCR_OUT2)
		msr |= UART_MSR_DCD;
	return msr;
}

uint8_t serial_in(struct serial *s, unsigned int off)
{
	bool dlab;
	uint8_t v = 0;

	pthread_mutex_lock(&s->lock);
	dlab = s->lcr & UART_LCR_DLAB;
	switch (off) {
	case UART_RX:
		v = dlab ? s->dll : 0;
		break;
	case UART_IER:
		v = dlab ? s->dlm : s->ier;
		break;
	case UART_IIR:
		v = UART_IIR_NO_INT;
		if ((s->ier & UART_IER_THRI) && s->thri_pending) {
			v = UART_IIR_THRI;
			s->thri_pending = false;	/* reading IIR clears THRE */
		}
		if (s->fcr & UART_FCR_ENABLE_FIFO)
			v |= 0xc0;
		update_irq(s);
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = UART_LSR_TEMT | UART_LSR_THRE;
		break;
	case UART_MSR:
		v = (s->mcr & UART_MCR_LOOP) ? msr_loopback(s->mcr) :
			(UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
		break;
	case UART_SCR:
		v = s->scr;
		break;
	}
	pthread_mutex_unlock(&s->lock);
	return v;
}

void serial_out(struct serial *s, unsigned int off, uint8_t val)
{
	bool dlab;

	pthread_mutex_lock(&s->lock);
	dlab = s->lcr & UART_LCR_DLAB;
	switch (off) {
	case UART_TX:
		if (dlab) {
			s->dll = val;
			break;
		}
		if (!(s->mcr & UART_MCR_LOOP) && s->out)
			outsink_put(s->out, &val, 1);
		s->thri_pending = true;
		update_irq(s);
		break;
	case UART_IER:
		if (dlab) {
			s->dlm = val;
			break;
		}
		if ((val & UART_IER_THRI) && !(s->ier & UART_IER_THRI))
			s->thri_pending = true;
		s->ier = val & 0x0f;
		update_irq(s);
		break;
	case UART_FCR:
		s->fcr = val;
		break;
	case UART_LCR:
		s->lcr = val;
		break;
	case UART_MCR:
		s->mcr = val & 0x1f;
		break;
	case UART_SCR:
		s->scr = val;
		break;
	}
	pthread_mutex_unlock(&s->lock);
}
