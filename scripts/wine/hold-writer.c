/* A recorder stand-in for the Windows build's tests, run under Wine (a Linux process's
 * open file is invisible to Wine's sharing checks, so the writer must be a Windows
 * program). Usage: hold-writer.exe PATH BYTES [EVERY_MS]
 * Creates PATH sharing only reading, as a recorder does, writes BYTES bytes, prints
 * "written", then keeps the file open until PATH.release exists, and closes it. With
 * EVERY_MS it goes on writing BYTES more every EVERY_MS until then: a recording. */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: hold-writer PATH BYTES [EVERY_MS]\n");
        return 2;
    }
    HANDLE h = CreateFileA(argv[1], GENERIC_WRITE, FILE_SHARE_READ, NULL, CREATE_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "cannot create %s: %lu\n", argv[1], GetLastError());
        return 1;
    }
    long total = atol(argv[2]);
    long every = argc == 4 ? atol(argv[3]) : 0;
    char buf[4096];
    for (long i = 0; i < (long)sizeof buf; i++) buf[i] = (char)(i * 31 + 7);
    memcpy(buf, "DHAV", 4);
    char release[MAX_PATH + 16];
    snprintf(release, sizeof release, "%s.release", argv[1]);
    int first = 1;
    while (first || GetFileAttributesA(release) == INVALID_FILE_ATTRIBUTES) {
        if (first || every > 0) {
            for (long done = 0; done < total;) {
                DWORD n = (DWORD)(total - done < (long)sizeof buf ? total - done : (long)sizeof buf), w = 0;
                if (!WriteFile(h, buf, n, &w, NULL)) return 1;
                done += w;
                buf[4] = (char)(buf[4] + 1);
            }
            if (first) {
                printf("written\n");
                fflush(stdout);
            }
            first = 0;
        }
        Sleep(every > 0 ? every : 50);
    }
    CloseHandle(h);
    printf("closed\n");
    return 0;
}
