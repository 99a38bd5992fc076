/* Preloaded into the daemon by the soak, before libfaketime, for two things a real
 * machine has and libfaketime's fast clock lacks (docs/reliability.md, findings 12
 * and 13):
 *
 * - A monotonic clock that never jumps. libfaketime moves CLOCK_MONOTONIC with every
 *   change of its spec file, so a wall-clock jump would move the daemon's timers too.
 *   Here the monotonic clocks run SOAK_SPEED times as fast as the real one, from the
 *   real one's value at the first call, and ignore the spec file.
 * - Timed futex waits that end when that clock says so. std's timed wait takes an
 *   absolute deadline on the monotonic clock, which the kernel would wait for on the
 *   real clock: a 60 s wait would last 1,440 times longer. The deadline is moved to
 *   what is left of it, divided by SOAK_SPEED, from the real clock's now.
 *
 * Every other call passes through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>

typedef long (*syscall_fn)(long, ...);
typedef int (*clock_fn)(clockid_t, struct timespec *);

static long double speed(void) {
    static long double s = -1;
    if (s < 0) {
        const char *v = getenv("SOAK_SPEED");
        s = v ? strtold(v, NULL) : 0;
    }
    return s;
}

static long double secs(const struct timespec *t) {
    return t->tv_sec + t->tv_nsec / 1e9L;
}

static struct timespec from_secs(long double at) {
    struct timespec t;
    t.tv_sec = (time_t)at;
    t.tv_nsec = (long)((at - t.tv_sec) * 1e9L);
    return t;
}

/* libc's own syscall(), past this file's. */
static syscall_fn real_syscall(void) {
    static syscall_fn real;
    if (!real)
        real = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
    return real;
}

/* The kernel's monotonic clock, never faked. */
static long double real_mono(void) {
    struct timespec t;
    real_syscall()(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
    return secs(&t);
}

/* The fast monotonic clock: from the real one's value at the first call. */
static long double fast_mono(void) {
    static long double origin = -1;
    long double now = real_mono();
    if (origin < 0)
        origin = now;
    return origin + (now - origin) * speed();
}

static int is_monotonic(clockid_t c) {
    return c == CLOCK_MONOTONIC || c == CLOCK_MONOTONIC_RAW || c == CLOCK_MONOTONIC_COARSE ||
           c == CLOCK_BOOTTIME;
}

int clock_gettime(clockid_t c, struct timespec *t) {
    static clock_fn next;
    if (speed() > 0 && is_monotonic(c)) {
        *t = from_secs(fast_mono());
        return 0;
    }
    if (!next)
        next = (clock_fn)dlsym(RTLD_NEXT, "clock_gettime");
    return next(c, t);
}

long syscall(long n, ...) {
    syscall_fn real = real_syscall();
    va_list ap;
    va_start(ap, n);
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    int op = (int)a[1];
    if (n == SYS_futex && a[3] && speed() > 0 && (op & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET &&
        !(op & FUTEX_CLOCK_REALTIME)) {
        long double left = secs((const struct timespec *)a[3]) - fast_mono();
        struct timespec at = from_secs(real_mono() + (left > 0 ? left / speed() : 0));
        return real(n, a[0], a[1], a[2], (long)&at, a[4], a[5]);
    }
    return real(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
