/*
 * libFuzzer target for `opsdeck evidence verify`: any bytes, as an evidence export,
 * are verified without and with a pinned key. No crash, hang or leak; a failure
 * names a line inside the input. Built and run by scripts/fuzz.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/log.h"
#include "ledger/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char key[] =
	    "aa7cc5e180c9e41769ad9f9ee4df6a9b1caf2b6516774f61199d80e032466302";
	struct evidence_verdict v;
	size_t lines = 1, i;
	struct err e;
	int r;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	r = evidence_verify((const char *)data, size, NULL, &v, &e);
	if (r == 1 && (v.line < 1 || (size_t)v.line > lines + 1))
		fatalx("verdict names line %ld of %zu", v.line, lines);
	if (r == 0 && v.entries < 0)
		fatalx("negative entry count");
	evidence_verify((const char *)data, size, key, &v, &e);
	return 0;
}
