#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>

#include "core/proc.h"

extern char **environ;

int
proc_output(char *const argv[], char *out, size_t outlen, struct err *e)
{
	posix_spawn_file_actions_t fa;
	size_t len = 0;
	char sink[512];
	ssize_t n;
	pid_t pid;
	int fds[2], status, rc;

	if (outlen > 0)
		out[0] = '\0';
	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_errno(e, "cannot run '%s': pipe", argv[0]);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return err_setk(e, rc == ENOENT ? ERR_NOT_FOUND : ERR_FAILED,
		    "cannot run '%s': %s", argv[0], strerror(rc));
	}
	/* read to the end, keeping what fits, so the child never blocks on a full pipe */
	for (;;) {
		if (len + 1 < outlen)
			n = read(fds[0], out + len, outlen - 1 - len);
		else
			n = read(fds[0], sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len + 1 < outlen)
			len += (size_t)n;
	}
	if (outlen > 0)
		out[len] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_errno(e, "cannot wait for '%s'", argv[0]);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
