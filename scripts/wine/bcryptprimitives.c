/* A stand-in for Windows 10+'s bcryptprimitives.dll, which Wine 8 lacks: Rust's std
 * (1.78+) asks it for random bytes (ProcessPrng) at start-up. Forwards to
 * SystemFunction036 (RtlGenRandom), which Wine has. Used only by scripts/wine-tests.sh. */
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG len);
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x7fffffff ? 0x7fffffff : (ULONG)len;
        if (!SystemFunction036(data, n)) return FALSE;
        data += n; len -= n;
    }
    return TRUE;
}
