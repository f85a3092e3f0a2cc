/* Artifacts: content-addressed import of a directory or a tarball into the state dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/xmalloc.h"
#include "deploy/artifact.h"

extern char **environ;

static char root[] = "/tmp/opsdeck-artifact-XXXXXX";
static char state[300], src[300];

/* root/rel, in a static ring so a test can hold a few at once. */
static const char *
at(const char *fmt, ...)
{
	static char ring[8][600];
	static int next;
	char rel[400];
	va_list ap;
	char *out = ring[next++ % 8];

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(out, sizeof(ring[0]), "%s/%s", root, rel);
	return out;
}

static void
put(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)),
	    (ssize_t)strlen(content));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void
run(char *const argv[])
{
	pid_t pid;
	int status;

	assert_int_equal(posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The demo tree: files, an executable, a subdirectory, symlinks that stay inside. */
static void
make_tree(const char *dir)
{
	char p[600];

	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(p, sizeof(p), "%s/app.txt", dir);
	put(p, "hello\n", 0644);
	snprintf(p, sizeof(p), "%s/run.sh", dir);
	put(p, "#!/bin/sh\necho run\n", 0755);
	snprintf(p, sizeof(p), "%s/lib", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/lib/a.js", dir);
	put(p, "module.exports = 1;\n", 0644);
	snprintf(p, sizeof(p), "%s/lib/empty", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/current", dir);
	assert_int_equal(symlink("lib/a.js", p), 0);
	snprintf(p, sizeof(p), "%s/lib/up", dir);
	assert_int_equal(symlink("../app.txt", p), 0);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static int
chmod_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D)
		chmod(path, (st->st_mode & 07777) | S_IRWXU);
	return 0;
}

static void
rm_tree(const char *path)
{
	nftw(path, chmod_entry, 16, FTW_PHYS);
	nftw(path, rm_entry, 16, FTW_PHYS | FTW_DEPTH);
}

static int
setup(void **unused)
{
	(void)unused;
	strcpy(root, "/tmp/opsdeck-artifact-XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	snprintf(state, sizeof(state), "%s/state", root);
	snprintf(src, sizeof(src), "%s/src", root);
	return mkdir(state, 0700);
}

static int
teardown(void **unused)
{
	(void)unused;
	rm_tree(root);
	return 0;
}

/* The names in a directory but . and .., how many, and whether any is a temp dir. */
static int
count_entries(const char *dir, bool *has_tmp)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (has_tmp != NULL)
		*has_tmp = false;
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (has_tmp != NULL && strncmp(de->d_name, ".tmp-", 5) == 0)
			*has_tmp = true;
		n++;
	}
	closedir(d);
	return n;
}

/* STATE/artifacts holds exactly n stored trees and nothing half-done. */
static void
assert_store(int n)
{
	bool has_tmp;

	assert_int_equal(count_entries(at("state/artifacts"), &has_tmp), n);
	assert_false(has_tmp);
}

static void
import_ok(const char *from, struct artifact *a)
{
	struct err e = { 0 };

	if (artifact_import(state, from, a, &e) < 0)
		fail_msg("import of '%s' failed: %s", from, e.msg);
	assert_int_equal(strlen(a->digest), 64);
}

/* Imports a copy of the demo tree changed by edit, and returns its digest. */
static void
digest_of_variant(const char *name, void (*edit)(const char *), char out[65])
{
	struct artifact a;
	const char *dir = at("%s", name);

	make_tree(dir);
	if (edit != NULL)
		edit(dir);
	import_ok(dir, &a);
	memcpy(out, a.digest, 65);
	artifact_release(&a);
}

static void
tar_dir(const char *dir, const char *out, bool gzip)
{
	char *argv[] = { "tar", gzip ? "-czf" : "-cf", (char *)out, "-C",
	    (char *)dir, ".", NULL };

	run(argv);
}

/* One ustar member, written by hand so the test can craft what tar would refuse. */
static void
tar_member(FILE *f, const char *name, char type, const char *link,
    const char *data, mode_t mode)
{
	unsigned char h[512] = { 0 };
	size_t len = data ? strlen(data) : 0, pad;
	unsigned sum = 0;
	int i;

	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", (unsigned)mode);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011o", (unsigned)len & 07777777);
	snprintf((char *)h + 136, 12, "%011o", 0);
	h[156] = (unsigned char)type;
	if (link != NULL)
		snprintf((char *)h + 157, 100, "%s", link);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	assert_int_equal(fwrite(h, 1, 512, f), 512);
	if (len > 0) {
		char zero[512] = { 0 };

		assert_int_equal(fwrite(data, 1, len, f), len);
		pad = (512 - len % 512) % 512;
		assert_int_equal(fwrite(zero, 1, pad, f), pad);
	}
}

static void
tar_end(FILE *f)
{
	char zero[1024] = { 0 };

	assert_int_equal(fwrite(zero, 1, sizeof(zero), f), sizeof(zero));
	assert_int_equal(fclose(f), 0);
}

/*
 * The demo tree's digest, checked against an independent Python implementation of the
 * format described in artifact.c: stored artifacts keep their names across versions.
 */
#define PINNED "e5272cdb3a44f03038d28684980f3b15b1f3e72d302cf9d0d128b87aa66a405f"

static void
test_same_dir_twice_is_stored_once(void **unused)
{
	struct artifact a, b;
	char buf[64];
	ssize_t n;
	int fd;

	(void)unused;
	make_tree(src);
	import_ok(src, &a);
	assert_false(a.existed);
	assert_string_equal(a.kind, "dir");
	assert_int_equal(a.size, strlen("hello\n") + strlen("#!/bin/sh\necho run\n") +
	    strlen("module.exports = 1;\n"));
	assert_string_equal(a.path, at("state/artifacts/%s", a.digest));

	/* The copy: contents, the x bit and the symlinks as they were. */
	fd = open(at("state/artifacts/%s/lib/a.js", a.digest), O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(n, strlen("module.exports = 1;\n"));
	assert_memory_equal(buf, "module.exports = 1;\n", n);
	assert_int_equal(access(at("state/artifacts/%s/run.sh", a.digest), X_OK), 0);
	n = readlink(at("state/artifacts/%s/current", a.digest), buf, sizeof(buf));
	assert_int_equal(n, strlen("lib/a.js"));
	assert_memory_equal(buf, "lib/a.js", n);
	assert_int_equal(count_entries(at("state/artifacts/%s/lib/empty", a.digest),
	    NULL), 0);

	assert_string_equal(a.digest, PINNED);

	import_ok(src, &b);
	assert_true(b.existed);
	assert_string_equal(a.digest, b.digest);
	assert_string_equal(a.path, b.path);
	assert_int_equal(a.size, b.size);
	assert_store(1);
	artifact_release(&a);
	artifact_release(&b);
	assert_null(a.path);
}

static void
test_dir_and_its_tarball_have_one_digest(void **unused)
{
	struct artifact d, tgz, tar, fresh;
	char other[300];

	(void)unused;
	make_tree(src);
	tar_dir(src, at("app.tar.gz"), true);
	tar_dir(src, at("app.tar"), false);
	import_ok(src, &d);
	import_ok(at("app.tar.gz"), &tgz);
	import_ok(at("app.tar"), &tar);
	assert_string_equal(tgz.kind, "tar");
	assert_string_equal(d.digest, tgz.digest);
	assert_string_equal(d.digest, tar.digest);
	assert_true(tgz.existed);
	assert_int_equal(d.size, tgz.size);
	assert_store(1);

	/* The tarball alone, into a state dir that has never seen the tree. */
	snprintf(other, sizeof(other), "%s/other-state", root);
	assert_int_equal(artifact_import(other, at("app.tar.gz"), &fresh, NULL), 0);
	assert_false(fresh.existed);
	assert_string_equal(fresh.digest, d.digest);
	assert_int_equal(access(at("other-state/artifacts/%s/run.sh", d.digest),
	    X_OK), 0);
	artifact_release(&d);
	artifact_release(&tgz);
	artifact_release(&tar);
	artifact_release(&fresh);
}

static void
edit_byte(const char *dir)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/lib/a.js", dir);
	put(p, "module.exports = 2;\n", 0644);
}

static void
edit_name(const char *dir)
{
	char a[600], b[600];

	snprintf(a, sizeof(a), "%s/app.txt", dir);
	snprintf(b, sizeof(b), "%s/App.txt", dir);
	assert_int_equal(rename(a, b), 0);
}

static void
edit_xbit(const char *dir)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/app.txt", dir);
	assert_int_equal(chmod(p, 0744), 0);
}

static void
edit_empty_dir(const char *dir)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/lib/empty", dir);
	assert_int_equal(rmdir(p), 0);
}

static void
edit_link(const char *dir)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/current", dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("lib/../lib/a.js", p), 0);
}

/* What the digest ignores: times, group/other bits, the tree's place. */
static void
edit_nothing_that_counts(const char *dir)
{
	char p[600];
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };

	snprintf(p, sizeof(p), "%s/app.txt", dir);
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	assert_int_equal(chmod(p, 0600), 0);
}

static void
test_a_change_changes_the_digest(void **unused)
{
	static const struct {
		const char *name;
		void	  (*edit)(const char *);
		bool	    same;
	} cases[] = {
		{ "byte", edit_byte, false },
		{ "name", edit_name, false },
		{ "xbit", edit_xbit, false },
		{ "emptydir", edit_empty_dir, false },
		{ "link", edit_link, false },
		{ "elsewhere", edit_nothing_that_counts, true },
	};
	char base[65], d[65];
	size_t i;

	(void)unused;
	digest_of_variant("base", NULL, base);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		digest_of_variant(cases[i].name, cases[i].edit, d);
		if (cases[i].same != (strcmp(base, d) == 0))
			fail_msg("%s: digest %s, base %s", cases[i].name, d, base);
	}
	assert_store(6);
}

static void
expect_refused(const char *from, enum err_kind kind, const char *const *parts)
{
	struct artifact a;
	struct err e = { 0 };

	assert_int_equal(artifact_import(state, from, &a, &e), -1);
	assert_int_equal(e.kind, kind);
	for (; *parts != NULL; parts++)
		if (strstr(e.msg, *parts) == NULL)
			fail_msg("'%s' not in: %s", *parts, e.msg);
	assert_null(a.path);
	assert_int_equal(a.digest[0], '\0');
	artifact_release(&a);
}

static void
test_symlinks_must_stay_inside(void **unused)
{
	const char *p;

	(void)unused;
	make_tree(src);
	p = at("src/lib/out");
	assert_int_equal(symlink("../../state", p), 0);
	expect_refused(src, ERR_INVALID, (const char *const[]){
	    "symlink '", "/src/lib/out' points outside the artifact ('../../state')",
	    NULL });
	assert_store(0);

	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	expect_refused(src, ERR_INVALID, (const char *const[]){
	    "/src/lib/out' points outside", "('/etc/passwd')", NULL });
	assert_store(0);

	/* Each link alone stays inside; through "top" this one leaves. */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("..", at("src/lib/top")), 0);
	assert_int_equal(symlink("top/../x", p), 0);
	expect_refused(src, ERR_INVALID, (const char *const[]){
	    "/src/lib/out' points outside", NULL });
	assert_store(0);

	/* A loop never resolves. */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("loop2", at("src/loop1")), 0);
	assert_int_equal(symlink("loop1", at("src/loop2")), 0);
	assert_int_equal(symlink("../loop1/x", p), 0);
	expect_refused(src, ERR_INVALID, (const char *const[]){
	    "too many levels", NULL });
	assert_store(0);

	/* Dangling but inside, and through an inside link: allowed. */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(unlink(at("src/loop1")), 0);
	assert_int_equal(unlink(at("src/loop2")), 0);
	assert_int_equal(symlink("top/lib/not-built-yet", p), 0);
	struct artifact a;

	import_ok(src, &a);
	artifact_release(&a);
	assert_store(1);
}

static void
test_special_files_refused(void **unused)
{
	(void)unused;
	make_tree(src);
	assert_int_equal(mkfifo(at("src/lib/pipe"), 0644), 0);
	expect_refused(src, ERR_INVALID, (const char *const[]){
	    "/src/lib/pipe' is a fifo: an artifact holds only files, "
	    "directories and symlinks", NULL });
	assert_store(0);
}

static void
test_not_a_tar_refused(void **unused)
{
	char want[700];
	struct artifact a;
	struct err e = { 0 };

	(void)unused;
	put(at("x.zip"), "PK\003\004 not really a zip", 0644);
	assert_int_equal(artifact_import(state, at("x.zip"), &a, &e), -1);
	snprintf(want, sizeof(want), "'%s' is not a tar archive (tar: This does not "
	    "look like a tar archive): pass a directory or a .tar.gz", at("x.zip"));
	assert_string_equal(e.msg, want);
	assert_store(0);

	/* Empty, and gzip around something that is not a tar: refused too. */
	put(at("empty.tar.gz"), "", 0644);
	expect_refused(at("empty.tar.gz"), ERR_INVALID, (const char *const[]){
	    "empty.tar.gz' ", "pass a directory or a .tar.gz", NULL });
	assert_store(0);
}

static void
test_tar_cannot_write_outside(void **unused)
{
	const char *evil = at("evil.tar");
	char member[400], link_to_root[400];
	FILE *f;
	int before_root, before_state;

	(void)unused;
	/* "../" lands beside the temp dir, "a/../../../" beside the state dir. */
	assert_non_null(f = fopen(evil, "w"));
	tar_member(f, "ok.txt", '0', NULL, "fine\n", 0644);
	tar_member(f, "../escaped.txt", '0', NULL, "bad\n", 0644);
	tar_member(f, "a/../../../escaped2.txt", '0', NULL, "bad\n", 0644);
	tar_end(f);
	assert_int_equal(mkdir(at("state/artifacts"), 0755), 0);
	before_root = count_entries(root, NULL);
	before_state = count_entries(state, NULL);
	expect_refused(evil, ERR_INVALID, (const char *const[]){
	    "cannot unpack '", "evil.tar' (tar: ", "contains '..'",
	    "nothing was imported", NULL });
	assert_int_equal(count_entries(root, NULL), before_root);
	assert_int_equal(count_entries(state, NULL), before_state);
	assert_store(0);

	/* A symlink to outside, then a member written through it. */
	assert_non_null(f = fopen(evil, "w"));
	snprintf(link_to_root, sizeof(link_to_root), "%s", root);
	tar_member(f, "l", '2', link_to_root, NULL, 0777);
	tar_member(f, "l/through.txt", '0', NULL, "bad\n", 0644);
	tar_member(f, "up", '2', "..", NULL, 0777);
	tar_member(f, "up/through2.txt", '0', NULL, "bad\n", 0644);
	tar_end(f);
	expect_refused(evil, ERR_INVALID, (const char *const[]){ "evil.tar'",
	    NULL });
	assert_int_equal(access(at("through.txt"), F_OK), -1);
	assert_int_equal(access(at("state/artifacts/through2.txt"), F_OK), -1);
	assert_int_equal(count_entries(root, NULL), before_root);
	assert_store(0);

	/* An absolute name is made relative: it lands inside the tree. */
	assert_non_null(f = fopen(evil, "w"));
	snprintf(member, sizeof(member), "%s/abs.txt", root);
	tar_member(f, member, '0', NULL, "inside\n", 0644);
	tar_end(f);
	struct artifact a;

	/* Even when the user's environment asks tar to keep absolute names. */
	setenv("TAR_OPTIONS", "--absolute-names", 1);
	import_ok(evil, &a);
	unsetenv("TAR_OPTIONS");
	assert_int_equal(access(member, F_OK), -1);
	assert_int_equal(access(at("state/artifacts/%s%s", a.digest, member), F_OK),
	    0);
	assert_store(1);
	artifact_release(&a);

	/* A symlink member that escapes is refused by the walk, naming it. */
	assert_non_null(f = fopen(evil, "w"));
	tar_member(f, "ok.txt", '0', NULL, "fine\n", 0644);
	tar_member(f, "dir/", '5', NULL, NULL, 0755);
	tar_member(f, "dir/bad", '2', "../../x", NULL, 0777);
	tar_end(f);
	expect_refused(evil, ERR_INVALID, (const char *const[]){
	    "symlink 'dir/bad' in '", "evil.tar' points outside", NULL });
	assert_store(1);
}

static int
writable_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_SL)
		return 0;
	return (st->st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) != 0;
}

static void
test_stored_tree_is_read_only(void **unused)
{
	struct artifact a, t;
	struct stat st;

	(void)unused;
	make_tree(src);
	tar_dir(src, at("app.tgz"), true);
	import_ok(src, &a);
	assert_int_equal(nftw(a.path, writable_entry, 16, FTW_PHYS), 0);
	assert_int_equal(stat(at("state/artifacts/%s/run.sh", a.digest), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0555);
	assert_int_equal(stat(at("state/artifacts/%s/app.txt", a.digest), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	assert_int_equal(stat(a.path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0555);
	if (geteuid() != 0)
		assert_int_equal(open(at("state/artifacts/%s/app.txt", a.digest),
		    O_WRONLY), -1);

	/* From a tarball, in a state dir of its own. */
	snprintf(state, sizeof(state), "%s/state2", root);
	import_ok(at("app.tgz"), &t);
	assert_int_equal(nftw(t.path, writable_entry, 16, FTW_PHYS), 0);
	artifact_release(&a);
	artifact_release(&t);
}

static void
test_missing_or_empty_source(void **unused)
{
	char want[700];
	struct artifact a;
	struct err e = { 0 };

	(void)unused;
	assert_int_equal(artifact_import(state, at("nope"), &a, &e), -1);
	snprintf(want, sizeof(want), "cannot read artifact '%s': No such file or "
	    "directory", at("nope"));
	assert_string_equal(e.msg, want);
	assert_int_equal(e.kind, ERR_NOT_FOUND);
	assert_store(0);

	assert_int_equal(mkdir(src, 0755), 0);
	expect_refused(src, ERR_INVALID, (const char *const[]){
	    "/src' is an empty directory: pass the directory holding the app's "
	    "files", NULL });
	assert_store(0);

	assert_int_equal(mkfifo(at("fifo"), 0644), 0);
	expect_refused(at("fifo"), ERR_INVALID, (const char *const[]){
	    "fifo' is a fifo: pass a directory or a .tar.gz", NULL });

	if (geteuid() != 0) {
		put(at("src/secret"), "x", 0000);
		expect_refused(src, ERR_FAILED, (const char *const[]){
		    "cannot read '", "/src/secret': Permission denied", NULL });
		assert_store(0);
	}
}

/* A crashed import's temp dir goes on a later import; a running one's stays. */
static void
test_stale_temp_dirs_swept(void **unused)
{
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };
	struct artifact a;

	(void)unused;
	make_tree(src);
	assert_int_equal(mkdir(at("state/artifacts"), 0755), 0);
	assert_int_equal(mkdir(at("state/artifacts/.tmp-crashd"), 0700), 0);
	assert_int_equal(mkdir(at("state/artifacts/.tmp-crashd/lib"), 0555), 0);
	assert_int_equal(utimensat(AT_FDCWD, at("state/artifacts/.tmp-crashd"), old,
	    0), 0);
	assert_int_equal(mkdir(at("state/artifacts/.tmp-runnin"), 0700), 0);
	import_ok(src, &a);
	assert_int_equal(access(at("state/artifacts/.tmp-crashd"), F_OK), -1);
	assert_int_equal(access(at("state/artifacts/.tmp-runnin"), F_OK), 0);
	artifact_release(&a);
}

static void
test_path_lookup(void **unused)
{
	struct artifact a;
	struct err e = { 0 };
	char *p;

	(void)unused;
	make_tree(src);
	import_ok(src, &a);
	assert_non_null(p = artifact_path(state, a.digest, &e));
	assert_string_equal(p, a.path);
	free(p);

	assert_null(artifact_path(state, "0123456789abcdef0123456789abcdef0123456789"
	    "abcdef0123456789abcdef", &e));
	assert_int_equal(e.kind, ERR_NOT_FOUND);
	assert_non_null(strstr(e.msg, "artifact '0123456789ab' is not in"));
	assert_null(artifact_path(state, "../../etc", &e));
	assert_int_equal(e.kind, ERR_INVALID);
	assert_null(artifact_path(state, ".tmp-abcdef", &e));
	artifact_release(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_dir_twice_is_stored_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_dir_and_its_tarball_have_one_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_change_changes_the_digest,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks_must_stay_inside,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_special_files_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_a_tar_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tar_cannot_write_outside,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stored_tree_is_read_only,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_or_empty_source,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_temp_dirs_swept, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_path_lookup, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
