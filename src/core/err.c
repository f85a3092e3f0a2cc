#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

static int
err_vset(struct err *e, enum err_kind kind, const char *fmt, va_list ap)
{
	if (e == NULL)
		return -1;
	e->kind = kind;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return -1;
}

int
err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, ERR_FAILED, fmt, ap);
	va_end(ap);
	return -1;
}

int
err_setk(struct err *e, enum err_kind kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, kind, fmt, ap);
	va_end(ap);
	return -1;
}

int
err_errno(struct err *e, const char *fmt, ...)
{
	int saved = errno;
	size_t n;
	va_list ap;

	if (e == NULL)
		return -1;
	e->kind = ERR_FAILED;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

static const char *const kind_names[] = {
	[ERR_FAILED] = "failed",
	[ERR_NOT_FOUND] = "not_found",
	[ERR_DENIED] = "denied",
	[ERR_INVALID] = "invalid",
	[ERR_CONFLICT] = "conflict",
	[ERR_PENDING] = "pending",
};

const char *
err_kind_str(enum err_kind k)
{
	return kind_names[k];
}

enum err_kind
err_kind_parse(const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (strcmp(kind_names[i], s) == 0)
			return (enum err_kind)i;
	return ERR_FAILED;
}
