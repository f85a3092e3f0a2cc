/*
 * libFuzzer target for direction files (`opsdeck task import`): any text either
 * fails with a message naming the file, or gives tasks whose ids, titles and
 * owners are runs of its bytes, on lines inside it. Built and run by scripts/fuzz.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "ledger/tasks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(const uint8_t *data, size_t size, const char *s)
{
	if (s == NULL || *s == '\0' || memmem(data, size, s, strlen(s)) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e;
	json_t *plan = tasks_parse((const char *)data, size, "f.md", &e), *t;
	size_t i, lines = 1;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (plan == NULL) {
		if (strncmp(e.msg, "f.md:", 5) != 0)
			abort();
		return 0;
	}
	json_array_foreach(plan, i, t) {
		inside(data, size, json_str(t, "id"));
		inside(data, size, json_str(t, "title"));
		inside(data, size, json_str(t, "owner"));
		inside(data, size, json_str(t, "direction"));
		if (!task_id_valid(json_str(t, "id")) || json_int(t, "line", 0) < 1 ||
		    (size_t)json_int(t, "line", 0) > lines)
			abort();
	}
	json_decref(plan);
	return 0;
}
