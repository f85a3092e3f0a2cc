/*
 * libFuzzer target for migration SQL: any bytes are split, parsed and linted (all
 * options on) without a crash, hang or leak, and every position points into the
 * input (line within the number of lines, col >= 1).
 *
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Isrc \
 *       tests/fuzz/fuzz_sql.c src/migrate/{sql,lint,rules,locks}.c \
 *       src/core/{xmalloc,buf,log,err,util,json}.c -l:libpg_query.a \
 *       $(pkg-config --cflags --libs jansson libsodium) -lm -o fuzz_sql
 *   mkdir -p /tmp/fuzz-sql && cp tests/migrate/cases/[a-z]*.sql /tmp/fuzz-sql/
 *   ./fuzz_sql -dict=tests/fuzz/sql.dict -max_total_time=60 /tmp/fuzz-sql
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "migrate/lint.h"
#include "migrate/sql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lint_options o = { .policy = LINT_POLICY_ADDITIVE_ONLY,
	    .assume_in_transaction = (size & 1) != 0, .pg_version = 10 };
	struct lint_report r;
	struct sql_file f;
	struct err e;
	size_t i, lines = 1;

	if (size > 1 << 16)
		return 0;
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (sql_file_parse("fuzz.sql", (const char *)data, size, &f, &e) < 0) {
		sql_file_release(&f);
		return 0;
	}
	lint_file(&o, &f, &r);
	for (i = 0; i < r.nfindings; i++)
		if (r.findings[i].line < 1 || (size_t)r.findings[i].line > lines ||
		    r.findings[i].col < 1 || r.findings[i].message == NULL)
			fatalx("finding %zu at %d:%d outside the input", i,
			    r.findings[i].line, r.findings[i].col);
	for (i = 0; i < r.nstmts; i++)
		if (r.stmts[i].line < 1 || (size_t)r.stmts[i].line > lines)
			fatalx("statement %zu at line %d outside the input", i,
			    r.stmts[i].line);
	lint_report_release(&r);
	sql_file_release(&f);
	return 0;
}
