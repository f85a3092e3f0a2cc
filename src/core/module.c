#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/module.h"
#include "core/util.h"
#include "core/xmalloc.h"

static char *
module_dir(void)
{
	char exe[PATH_MAX];
	const char *env = getenv("OPSDECK_MODULE_DIR");
	ssize_t n;

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return xstrdup(".");
	exe[n] = '\0';
	return path_dir(exe);
}

void *
module_symbol(const char *module, const char *symbol, struct err *e)
{
	char *dir = module_dir(), *path = path_join(dir, module);
	void *h, *sym = NULL;

	/* RTLD_GLOBAL is not needed: the module resolves opsdeck's own symbols from the
	 * executable, which exports them (-rdynamic). */
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		err_set(e, "cannot load module '%s': %s: rebuild opsdeck (make "
		    "build) or set OPSDECK_MODULE_DIR", path, dlerror());
		goto out;
	}
	if ((sym = dlsym(h, symbol)) == NULL)
		err_set(e, "module '%s' has no '%s': it is from another opsdeck "
		    "build; rebuild (make build)", path, symbol);
out:
	free(path);
	free(dir);
	return sym;
}
