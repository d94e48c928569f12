/*
 * init.c - process 1: run the built-in programs one after another.
 *
 * The kernel starts init with the Multiboot command line as its argument.
 * A word "run=a,b,c" there picks the programs and their order; without
 * one (or with an empty list) init runs them all.  Boot loaders put other
 * words on the line too - QEMU starts it with the kernel's file name - so
 * init looks for run= at the start of any word and ignores the rest.
 *
 * For each program: fork, exec it in the child, wait for it, and print
 * its exit status.  Every program returns 0 when all its checks passed.
 * At the end, init also reaps any orphans that were handed to it, prints
 * a summary, and exits 0 if every program passed, 1 if not; the kernel
 * turns that into the debug-exit status (guest/kernel/main.c).
 *
 * Everything printed here is deterministic: program names, statuses,
 * counts.  Never a tick count or an address that depends on timing.
 */
#include "ulib.h"

#define INIT_ALL	"hello,forkstress,memtest,faulter,sysinfo,privtest,inttest,wptest,bigpage,kspy"
#define INIT_MAX_PROGRAMS 16
#define INIT_NAME_MAX	32

struct init_list {
	char names[INIT_MAX_PROGRAMS][INIT_NAME_MAX];
	int count;
};

/* The value of the "run=" word of the command line, or 0. */
static const char *init_find_run(const char *cmdline)
{
	for (const char *p = cmdline; *p; p++)
		if ((p == cmdline || p[-1] == ' ') && !strncmp(p, "run=", 4))
			return p + 4;
	return 0;
}

/* Split "a,b,c" (ending at a space or the end) into names. */
static int init_parse(const char *s, struct init_list *list)
{
	list->count = 0;
	while (*s && *s != ' ') {
		int len = 0;

		if (list->count == INIT_MAX_PROGRAMS) {
			printf("init: more than %d programs in run=\n", INIT_MAX_PROGRAMS);
			return -1;
		}
		while (s[len] && s[len] != ',' && s[len] != ' ')
			len++;
		if (len == 0 || len >= INIT_NAME_MAX) {
			printf("init: bad program name in run=\n");
			return -1;
		}
		memcpy(list->names[list->count], s, (size_t)len);
		list->names[list->count++][len] = '\0';
		s += len;
		if (*s == ',')
			s++;
	}
	return 0;
}

/* Fork, exec name in the child, wait for it; return its exit status. */
static int init_run(const char *name)
{
	int pid = fork(), status, got;

	if (pid < 0) {
		printf("init: fork failed with %d\n", pid);
		return -1;
	}
	if (pid == 0) {
		int err = exec(name, "");

		printf("init: cannot run %s: %s\n", name,
		       err == -GUEST_ENOENT ? "no such program" : "exec failed");
		exit(127);
	}
	/* Orphans handed to init may be reaped here too: skip them. */
	while ((got = wait(&status)) != pid)
		if (got < 0) {
			printf("init: wait failed with %d\n", got);
			return -1;
		}
	printf("init: %s exited with status %d\n", name, status);
	return status;
}

static void init_print_list(const struct init_list *list)
{
	char line[INIT_MAX_PROGRAMS * (INIT_NAME_MAX + 1) + 1];
	size_t len = 0;

	for (int i = 0; i < list->count; i++) {
		if (i)
			line[len++] = ' ';
		len += strlcpy(line + len, list->names[i], sizeof(line) - len);
	}
	line[len] = '\0';
	printf("init: running %s\n", line);
}

int main(const char *cmdline)
{
	static struct init_list list;
	const char *run = init_find_run(cmdline);
	int failed = 0, status;

	if (!run || !*run || *run == ' ')
		run = INIT_ALL;
	if (init_parse(run, &list) < 0)
		return 1;
	init_print_list(&list);
	for (int i = 0; i < list.count; i++)
		if (init_run(list.names[i]) != 0)
			failed++;
	while (wait(&status) > 0)
		;	/* reap the last orphans */

	if (failed)
		printf("init: %d of %d programs FAILED\n", failed, list.count);
	else
		printf("init: all %d programs passed\n", list.count);
	return failed ? 1 : 0;
}
