// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: control-channel line reassembly and parsing. */
#include <stdint.h>
#include <string.h>

#include "ctlchan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_line(void *opaque, const char *line, size_t len)
{
	struct avf_ctl_msg msg;

	(void)opaque;
	if (len > AVF_CTL_LINE_MAX)
		__builtin_trap();
	if (avf_ctl_parse_line(line, len, &msg) == 0 &&
	    strnlen(msg.text, sizeof(msg.text)) >= sizeof(msg.text))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct avf_ctl_stream s;

	memset(&s, 0, sizeof(s));
	avf_ctl_stream_feed(&s, data, size, on_line, NULL);
	return 0;
}
