#include "core/util.h"
#include "core/xmalloc.h"
#include "store/state.h"

char *
state_lock_path(const char *state_dir)
{
	return path_join(state_dir, "opsdeck.lock");
}

char *
state_socket_path(const char *state_dir)
{
	return path_join(state_dir, "opsdeck.sock");
}

char *
state_store_path(const char *state_dir)
{
	return path_join(state_dir, "opsdeck.db");
}

char *
state_log_dir(const char *state_dir, const char *app)
{
	return xasprintf("%s/logs/%s", state_dir, app);
}
