/*
 * libFuzzer target for --json (control/json.c): any answer text, as a VM's server might send it,
 * through each renderer, into a roomy buffer and into one that is too small. A renderer either
 * refuses the text or writes one whole document within its buffer; it never reads past the text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/control-json.h"
#include "lkvm/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int (*const renderers[])(struct json_buf *j, const char *text) = {
	ctl_json__vm, ctl_json__cpus, ctl_json__balloon, ctl_json__sdei,
};

static void render(int (*r)(struct json_buf *j, const char *text), const char *text, size_t room)
{
	static char out[8 * CTL_MAX_PAYLOAD];
	struct json_buf j;

	json__init(&j, out, room);
	if (r(&j, text))
		return;
	/* Accepted: one document, an object or an array, closed, within the room. */
	if (strlen(out) >= room || !strchr("[{", out[0]) || !strchr("]}", out[strlen(out) - 1]))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[CTL_MAX_PAYLOAD + 1];

	if (size > CTL_MAX_PAYLOAD)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++) {
		render(renderers[i], text, 8 * CTL_MAX_PAYLOAD);
		render(renderers[i], text, 1 + size / 2);
	}
	return 0;
}
