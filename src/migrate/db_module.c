/* The opsdeck-pg module's one export: see migrate/db.h. */
#include <libpq-fe.h>

#include "migrate/db.h"
#include "migrate/pg.h"

extern const struct migrate_db migrate_db_ops;

const struct migrate_db migrate_db_ops = {
	.dryrun_run = dryrun_run,
	.dryrun_print = dryrun_print,
	.apply_run = apply_run,
	.apply_status = apply_status,
	.apply_status_print = apply_status_print,
	.verify_run = verify_run,
	.verify_print = verify_print,
	.url_redact = pg_url_redact,
	.lib_version = PQlibVersion,
};
