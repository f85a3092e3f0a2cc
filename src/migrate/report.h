/*
 * migrate lint's output: each file's report printed as soon as it is linted (tty, gcc,
 * github) or collected into one document (json, sarif), with totals over the run.
 */
#ifndef OPSDECK_MIGRATE_REPORT_H
#define OPSDECK_MIGRATE_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "core/err.h"
#include "migrate/lint.h"

enum lint_format {
	LINT_FORMAT_TTY,
	LINT_FORMAT_JSON,
	LINT_FORMAT_GCC,
	LINT_FORMAT_SARIF,
	LINT_FORMAT_GITHUB,
};

/* Parses "tty", "json", "gcc", "sarif" or "github"; -1 otherwise. */
int	lint_format_parse(const char *, enum lint_format *);

/*
 * Lints paths with up to jobs worker threads (1: in this one), printing each file
 * to out in the order of paths (tty, gcc, github; tty ends with a summary line), the
 * same bytes for any jobs. For json and sarif *doc gets the whole document, for the
 * caller to print and free; NULL for the others. *worst gets the highest severity
 * found, -1 when none. -1 with err when a file cannot be read (what was printed
 * before it stays).
 */
int	lint_paths(const struct lint_options *, char *const *paths, size_t n,
	    int jobs, enum lint_format, FILE *out, json_t **doc, int *worst,
	    struct err *);

#endif
