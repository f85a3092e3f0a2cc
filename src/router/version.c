#include <stdio.h>
#include <string.h>

#include "core/proc.h"
#include "router/version.h"

int
router_haproxy_version(const char *binary, char *out, size_t outlen, int *major,
    int *minor, struct err *e)
{
	char *argv[] = { (char *)binary, "-v", NULL };
	char text[1024];
	const char *v;

	if (proc_output(argv, text, sizeof(text), e) < 0)
		return -1;
	if ((v = strstr(text, "HAProxy version ")) == NULL ||
	    sscanf(v + 16, "%d.%d", major, minor) != 2)
		return err_set(e, "'%s' does not print a HAProxy version (got "
		    "'%.60s')", binary, text);
	snprintf(out, outlen, "%.*s", (int)strcspn(v + 16, " \n"), v + 16);
	return 0;
}

bool
router_haproxy_supported(int major, int minor)
{
	return major > ROUTER_HAPROXY_MIN_MAJOR ||
	    (major == ROUTER_HAPROXY_MIN_MAJOR &&
	    minor >= ROUTER_HAPROXY_MIN_MINOR);
}
