#include "core/util.h"
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
