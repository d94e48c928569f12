/*
 * exitcode.h - what kvmshadow's exit status means.
 *
 * The low range belongs to the guest: whatever value v it writes to the
 * debug-exit port (include/ports.h) becomes our exit status, so a test
 * reads the guest's verdict directly.  (QEMU's isa-debug-exit turns the
 * same write into (v << 1) | 1; Documentation/exit-status.md has both.)
 * Everything kvmshadow says on its own behalf sits above that range, one
 * value per cause, so a script can tell "the guest failed its tests" from
 * "the guest never finished".
 */
#ifndef KVMSHADOW_EXITCODE_H
#define KVMSHADOW_EXITCODE_H

#define EXIT_GUEST_MAX	  63 /* 0..63: the guest's debug-exit value */
#define EXIT_USAGE	  64 /* bad command line */
#define EXIT_BAD_IMAGE	  65 /* the guest image was refused */
#define EXIT_VMM_ERROR	  70 /* KVM or the host failed us */
#define EXIT_TRIPLE_FAULT 71 /* the guest triple-faulted */
#define EXIT_SHUTDOWN	  72 /* halted for good, or asked to power off */
#define EXIT_TIMEOUT	  73 /* --timeout expired */
#define EXIT_GUEST_RANGE  74 /* debug-exit value above 63 */
#define EXIT_GUEST_ERROR  75 /* the guest did something the VMM refuses */

#endif
