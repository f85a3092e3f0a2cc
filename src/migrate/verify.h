/*
 * migrate verify: after a migration ran, checks on the database that what the file
 * creates exists and is usable — tables, columns, views, sequences, types, schemas,
 * extensions, functions; indexes valid and ready; constraints validated; triggers
 * enabled — and, for each new index, shows the EXPLAIN plan of a query on its leading
 * column. An index or constraint without a name in the file is found by its table,
 * type and columns. Read-only (one READ ONLY transaction, rolled back).
 */
#ifndef OPSDECK_VERIFY_H
#define OPSDECK_VERIFY_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "core/err.h"
#include "migrate/sql.h"

/*
 * Checks what the SQL text of path creates (read statement by statement: only what
 * each creates is kept) and fills *report; 0 when all is there, 1 when something is
 * missing or unusable, -1 on error.
 */
int	verify_run(const char *url, const char *path, const char *text,
	    size_t len, json_t **report, struct err *);
void	verify_print(const json_t *report, FILE *);

#endif
