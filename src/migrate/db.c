#include <stddef.h>

#include "core/module.h"
#include "migrate/db.h"

const struct migrate_db *
migrate_db(struct err *e)
{
	static const struct migrate_db *db;

	if (db == NULL)
		db = module_symbol("opsdeck-pg.so", "migrate_db_ops", e);
	return db;
}
