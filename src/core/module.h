/*
 * Parts of opsdeck that only some commands need (the daemon: libuv, libmicrohttpd,
 * libcurl; PostgreSQL: libpq) are built as modules beside the binary and loaded on
 * first use. Every CLI call would otherwise pay for loading ~40 shared libraries
 * (about 4 ms of a 6 ms `opsdeck status`); see bench/README.md.
 */
#ifndef OPSDECK_MODULE_H
#define OPSDECK_MODULE_H

#include "core/err.h"

/*
 * The address of symbol in module (e.g. "opsdeck-daemon.so"), found beside the running
 * binary or in $OPSDECK_MODULE_DIR. NULL with a message naming the file and the fix.
 */
void	*module_symbol(const char *module, const char *symbol, struct err *);

#endif
