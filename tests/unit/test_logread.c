/* runtime/logread: the last lines of several machines' logs, merged by time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/xmalloc.h"
#include "runtime/logread.h"

struct fixture {
	char	 dir[64];
	struct logread_file files[2];
};

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/opsdeck-logread.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->files[0].path = xasprintf("%s/a.log", f->dir);
	f->files[0].label = xstrdup("web[a]");
	f->files[1].path = xasprintf("%s/b.log", f->dir);
	f->files[1].label = xstrdup("web[b]");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int i;

	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(cmd);
	for (i = 0; i < 2; i++) {
		free(f->files[i].path);
		free(f->files[i].label);
	}
	free(f);
	return 0;
}

/* Runs logread_tail into a string the caller frees. */
static char *
tail(struct fixture *f, size_t nfiles, long n)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	assert_non_null(fp);
	logread_tail(f->files, nfiles, n, fp);
	fclose(fp);
	return out;
}

static void
test_merged_by_time(void **state)
{
	struct fixture *f = *state;
	char *out;

	write_file(f->files[0].path,
	    "2026-11-26T10:00:00.001Z out| a1\n"
	    "2026-11-26T10:00:00.003Z out| a2\n");
	write_file(f->files[1].path,
	    "2026-11-26T10:00:00.002Z out| b1\n"
	    "2026-11-26T10:00:00.004Z err| b2\n");
	out = tail(f, 2, 3);
	assert_string_equal(out,
	    "web[b] 2026-11-26T10:00:00.002Z out| b1\n"
	    "web[a] 2026-11-26T10:00:00.003Z out| a2\n"
	    "web[b] 2026-11-26T10:00:00.004Z err| b2\n");
	free(out);
	out = tail(f, 2, 0);
	assert_string_equal(out, "");
	free(out);
}

/* Just rotated: the rest comes from .1 and .2, older lines first. */
static void
test_topped_up_after_rotation(void **state)
{
	struct fixture *f = *state;
	char *p1 = xasprintf("%s.1", f->files[0].path);
	char *p2 = xasprintf("%s.2", f->files[0].path);
	char *out;

	write_file(p2, "2026-11-26T10:00:00.001Z out| one\n");
	write_file(p1, "2026-11-26T10:00:00.002Z out| two\n"
	    "2026-11-26T10:00:00.003Z out| three\n");
	/* the same millisecond as the last rotated line: file order decides */
	write_file(f->files[0].path, "2026-11-26T10:00:00.003Z out| four\n");
	out = tail(f, 1, 3);
	assert_string_equal(out,
	    "web[a] 2026-11-26T10:00:00.002Z out| two\n"
	    "web[a] 2026-11-26T10:00:00.003Z out| three\n"
	    "web[a] 2026-11-26T10:00:00.003Z out| four\n");
	free(out);
	out = tail(f, 1, -1);
	assert_non_null(strstr(out, "| one\n"));
	free(out);
	/* between the rename and the new file, the rotated ones still answer */
	unlink(f->files[0].path);
	out = tail(f, 1, 1);
	assert_string_equal(out, "web[a] 2026-11-26T10:00:00.003Z out| three\n");
	free(out);
	/* a machine with no log at all is no lines, not an error */
	out = tail(f, 2, 5);
	assert_string_equal(out, "web[a] 2026-11-26T10:00:00.001Z out| one\n"
	    "web[a] 2026-11-26T10:00:00.002Z out| two\n"
	    "web[a] 2026-11-26T10:00:00.003Z out| three\n");
	free(out);
	free(p1);
	free(p2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_merged_by_time, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_topped_up_after_rotation,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
