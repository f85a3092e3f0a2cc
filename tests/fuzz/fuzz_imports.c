/*
 * libFuzzer target for `opsdeck guard imports`' reading of source files: any text,
 * as each language it knows, gives hits that lie inside the text (line and column
 * within it, the name a run of its bytes). Built and run by scripts/fuzz.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard/imports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
	const char	*copy;	/* the input, uncut */
	size_t		 size;
};

static int
hit(const struct import_hit *h, void *arg)
{
	const struct ctx *c = arg;

	if (h->line == 0 || h->line > c->size + 1 || h->col == 0 ||
	    h->col > c->size || memmem(c->copy, c->size, h->name,
	    strlen(h->name)) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const files[] = { "a.py", "a.ts", "a.go", "a.c" };
	char *patterns[] = { (char *)"*" };
	struct ctx c = { (const char *)data, size };
	char *text;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		text = malloc(size + 1);
		memcpy(text, data, size);
		text[size] = '\0';
		guard_imports_text(files[i], text, patterns, 1, hit, &c);
		free(text);
	}
	return 0;
}
