/*
 * error.h - errors as values.
 *
 * Anything that can go wrong because of the user's input or the guest's
 * behaviour is reported as a struct error carrying one line a user can act
 * on ("guest.img: segment 1 lies outside guest memory ...").  Functions
 * fill it and return -1; only the top level prints it.
 */
#ifndef KVMSHADOW_ERROR_H
#define KVMSHADOW_ERROR_H

struct error {
	char msg[512];
};

/* Record a formatted message; always returns -1 so callers can
 * 'return error_set(err, ...)'. */
int error_set(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like error_set, with ": strerror(errno)" appended. */
int error_errno(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
