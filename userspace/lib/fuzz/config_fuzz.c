// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: the instance config parser. Whatever the input, parsing must
 * not crash, and anything accepted must serialize and parse back to a
 * config with the same text.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct avf_config *c = NULL, *c2 = NULL;
	char *msg = NULL, *t1 = NULL, *t2 = NULL;

	if (avf_config_from_text((const char *)data, size, &c, &msg) == AVF_OK) {
		if (avf_config_to_text(c, &t1) || avf_config_from_text(t1, strlen(t1), &c2, NULL) ||
		    avf_config_to_text(c2, &t2) || strcmp(t1, t2) ||
		    !avf_config_is_compatible_with(c, c2))
			abort();
	} else if (!msg) {
		abort(); /* every failure carries a message */
	}
	free(msg);
	free(t1);
	free(t2);
	avf_config_free(c);
	avf_config_free(c2);
	return 0;
}
