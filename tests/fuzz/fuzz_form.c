/*
 * libFuzzer target for what the dashboard reads from a browser's form (a body of
 * application/x-www-form-urlencoded fields) and what it writes into its pages: a
 * decoded value holds no NUL and fits; escaped text holds no markup. Built and run
 * by scripts/fuzz.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fields[] = { "token", "csrf", "comment", "" };
	struct buf b = BUF_INIT;
	char *text = malloc(size + 1), out[64];
	size_t i;

	memcpy(text, data, size);
	text[size] = '\0';
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		/* a decoded value is never longer than the body it came from */
		if (form_value(text, fields[i], out, sizeof(out)) == 0 &&
		    strlen(out) > strlen(text))
			abort();
	html_esc(&b, text);
	if (strpbrk(buf_str(&b), "<>\"'") != NULL)
		abort();
	buf_release(&b);
	free(text);
	return 0;
}
