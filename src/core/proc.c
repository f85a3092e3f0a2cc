#include <sys/wait.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>

#include "core/proc.h"
#include "core/util.h"

/* A version command answers at once; one that does not is killed after this. */
#define PROC_DEADLINE_MS	5000

extern char **environ;

int
proc_output(char *const argv[], char *out, size_t outlen, struct err *e)
{
	posix_spawn_file_actions_t fa;
	size_t len = 0;
	char sink[512];
	ssize_t n;
	pid_t pid;
	int fds[2], status, rc, left;
	uint64_t deadline;
	struct pollfd pfd;

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
	deadline = mono_ms() + PROC_DEADLINE_MS;
	for (;;) {
		left = (int)(deadline > mono_ms() ? deadline - mono_ms() : 0);
		pfd.fd = fds[0];
		pfd.events = POLLIN;
		if ((rc = poll(&pfd, 1, left)) < 0 && errno == EINTR)
			continue;
		if (rc == 0) {
			kill(pid, SIGKILL);
			close(fds[0]);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return err_set(e, "'%s' did not end within %d s: killed",
			    argv[0], PROC_DEADLINE_MS / 1000);
		}
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
