/* Allocation wrappers: failure is fatal, so callers never check for NULL. */
#ifndef OPSDECK_XMALLOC_H
#define OPSDECK_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* Formats into a new string (asprintf that cannot fail). */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
