/*
 * libFuzzer target for check conditions: any bytes up to the first newline are a
 * condition; when it parses it is evaluated on an answer whose body is the rest of
 * the input (JSON or not), with the body cache shared by two evaluations. No crash,
 * hang or leak; a failed parse always says where. Built and run by scripts/fuzz.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/cond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *nl;
	struct cond_input in = { .status = 200, .response_ms = 42,
	    .connected = true, .cert_expiry_ms = 3600000, .ip = "127.0.0.1" };
	struct cond c;
	struct err e;
	void *cache = NULL;
	char detail[512];

	memcpy(text, data, size);
	text[size] = '\0';
	nl = memchr(text, '\n', size);
	if (nl != NULL) {
		*nl = '\0';
		in.body = nl + 1;
		in.body_len = size - (size_t)(nl + 1 - text);
	}
	if (cond_parse(text, &c, &e) == 0) {
		cond_eval(&c, &in, &cache, detail, sizeof(detail));
		cond_eval(&c, &in, &cache, detail, sizeof(detail));
		cond_body_release(cache);
		cond_release(&c);
	} else if (strstr(e.msg, "column ") == NULL)
		abort();
	free(text);
	return 0;
}
