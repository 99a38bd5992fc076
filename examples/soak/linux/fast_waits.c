/* Preloaded into the daemon by the soak: makes a timed futex wait on the monotonic
 * clock end when the fast clock says so. libfaketime fakes clock_gettime but not the
 * kernel's deadline, so a wait of 60 s that took its deadline from the faked clock
 * would last far longer than 60 simulated seconds (docs/reliability.md, finding 12).
 * The deadline is moved to what is left of it on the faked clock, divided by
 * SOAK_SPEED, from the real clock's now. Every other call passes through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>

typedef long (*syscall_fn)(long, ...);

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

/* The real deadline for a faked absolute one. */
static struct timespec real_deadline(syscall_fn real, const struct timespec *fake) {
    struct timespec fake_now, now, out;
    clock_gettime(CLOCK_MONOTONIC, &fake_now);
    real(SYS_clock_gettime, CLOCK_MONOTONIC, &now);
    long double left = secs(fake) - secs(&fake_now);
    long double at = secs(&now) + (left > 0 ? left / speed() : 0);
    out.tv_sec = (time_t)at;
    out.tv_nsec = (long)((at - out.tv_sec) * 1e9L);
    return out;
}

long syscall(long n, ...) {
    static syscall_fn real;
    if (!real)
        real = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
    va_list ap;
    va_start(ap, n);
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    int op = (int)a[1];
    if (n == SYS_futex && a[3] && speed() > 0 && (op & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET &&
        !(op & FUTEX_CLOCK_REALTIME)) {
        struct timespec at = real_deadline(real, (const struct timespec *)a[3]);
        return real(n, a[0], a[1], a[2], (long)&at, a[4], a[5]);
    }
    return real(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
