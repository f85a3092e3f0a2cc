/*
 * libFuzzer target for the PR body `opsdeck guard evidence` reads (guard/prbody.h):
 * any text gives files, an actor and problems whose places lie inside the text (the
 * line one of its lines, ended by LF, CR LF or CR, the column within it), each path a run of its bytes, and a
 * window that starts no later than it ends. Built and run by scripts/fuzz.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard/prbody.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The end of the line at p: its LF, CR or the text's end (as the parser reads). */
static const uint8_t *
eol(const uint8_t *p, const uint8_t *end)
{
	while (p < end && *p != '\n' && *p != '\r')
		p++;
	return p;
}

/*
 * Whether line:col is a place in the text (col may be one past a line's end); a
 * line ends at LF, CR LF or a lone CR.
 */
static int
inside(const uint8_t *data, size_t size, size_t line, size_t col)
{
	const uint8_t *p = data, *end = data + size, *nl;
	size_t l;

	for (l = 1; l < line; l++) {
		if ((nl = eol(p, end)) == end)
			return 0;
		p = *nl == '\r' && nl + 1 < end && nl[1] == '\n' ? nl + 2 : nl + 1;
	}
	if (line == 0 || col == 0)
		return 0;
	return col <= (size_t)(eol(p, end) - p) + 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prbody b;
	size_t i;

	prbody_parse(&b, (const char *)data, size);
	for (i = 0; i < b.nfiles; i++)
		if (b.files[i].path[0] == '\0' || !inside(data, size,
		    b.files[i].line, b.files[i].col) || memmem(data, size,
		    b.files[i].path, strlen(b.files[i].path)) == NULL)
			abort();
	for (i = 0; i < b.nproblems; i++)
		if (!inside(data, size, b.problems[i].line, b.problems[i].col) ||
		    b.problems[i].msg[0] == '\0')
			abort();
	if (b.actor != NULL && (b.actor[0] == '\0' || strpbrk(b.actor, " \t") !=
	    NULL || memmem(data, size, b.actor, strlen(b.actor)) == NULL))
		abort();
	if (b.have_window && b.since_ms > b.until_ms)
		abort();
	if ((b.nfiles > 0 || b.actor != NULL || b.have_window) &&
	    b.section_line == 0)
		abort();
	prbody_release(&b);
	return 0;
}
