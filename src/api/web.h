/*
 * What the dashboard needs of the web: escaping text into HTML, and reading the
 * fields of an application/x-www-form-urlencoded body (HTML forms), which comes
 * from outside and is fuzzed (tests/fuzz/fuzz_form.c).
 */
#ifndef OPSDECK_WEB_H
#define OPSDECK_WEB_H

#include <stddef.h>

#include "core/buf.h"

/* Appends s with &, <, >, " and ' escaped: safe in text and in quoted attributes. */
void	html_esc(struct buf *, const char *s);
/*
 * The value of field name in a form body ("a=1&token=x%2By"), decoded ('+' is a
 * space, %XX a byte) into out[outlen]. 0; -1 when the field is absent; -2 when
 * its value is longer than outlen - 1 bytes, has a bad %-escape or a NUL byte.
 */
int	form_value(const char *body, const char *name, char *out, size_t outlen);

#endif
