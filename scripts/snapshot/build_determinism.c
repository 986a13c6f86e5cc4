/*
 * Build-time determinism for the snapshot (scripts/build-snapshot.sh links these with
 * -Wl,--wrap=...): while wizer.initialize runs, clock and random reads get fixed answers and file
 * metadata is blanked, so two builds give the same bytes. At run time every wrapper passes
 * straight through to the host.
 */
#include <stdint.h>
#include <string.h>
#include <wasi/api.h>

/* ---- build-time determinism -----------------------------------------------------------------
 * While wizer.initialize runs, clock and random reads (mimalloc seeds itself from them; `random`
 * seeds at import) get fixed answers, so two builds give the same bytes. The link wraps the libc
 * entry points (-Wl,--wrap=...); at run time the wrappers pass straight through to the host. */
int wasi_py_in_initialize; /* set by wizer.initialize (wasi_py_main.c) while it runs */
static __wasi_timestamp_t fake_ns;
static uint64_t fake_random_state = 0x9E3779B97F4A7C15ull;

__wasi_errno_t __real___wasi_clock_time_get(__wasi_clockid_t id, __wasi_timestamp_t precision,
                                            __wasi_timestamp_t *time);
__wasi_errno_t __real___wasi_random_get(uint8_t *buf, __wasi_size_t buf_len);

__wasi_errno_t __wrap___wasi_clock_time_get(__wasi_clockid_t id, __wasi_timestamp_t precision,
                                            __wasi_timestamp_t *time) {
    if (!wasi_py_in_initialize) return __real___wasi_clock_time_get(id, precision, time);
    fake_ns += 1000; /* 1 us per reading: time moves forward, identically every build */
    *time = (id == __WASI_CLOCKID_REALTIME ? (__wasi_timestamp_t)1763942400 * 1000000000u : 0) + fake_ns;
    return 0;
}

__wasi_errno_t __wrap___wasi_random_get(uint8_t *buf, __wasi_size_t buf_len) {
    if (!wasi_py_in_initialize) return __real___wasi_random_get(buf, buf_len);
    for (__wasi_size_t i = 0; i < buf_len; i++) { /* xorshift64: build-time bytes, not secrets */
        fake_random_state ^= fake_random_state << 13;
        fake_random_state ^= fake_random_state >> 7;
        fake_random_state ^= fake_random_state << 17;
        buf[i] = (uint8_t)fake_random_state;
    }
    return 0;
}

/* File metadata read during initialisation ends up in freed heap memory, which the snapshot
 * stores: device, inode and access/change times are the build machine's, so they are blanked,
 * and so are padding bytes and unused buffer tails (Wizer's WASI leaves host garbage there). */
__wasi_errno_t __real___wasi_fd_filestat_get(__wasi_fd_t fd, __wasi_filestat_t *st);
__wasi_errno_t __real___wasi_path_filestat_get(__wasi_fd_t fd, __wasi_lookupflags_t flags,
                                               const char *path, __wasi_filestat_t *st);
__wasi_errno_t __real___wasi_fd_readdir(__wasi_fd_t fd, uint8_t *buf, __wasi_size_t buf_len,
                                        __wasi_dircookie_t cookie, __wasi_size_t *used);

static void blank_filestat(__wasi_filestat_t *st) {
    __wasi_filestat_t clean;
    memset(&clean, 0, sizeof clean);
    clean.filetype = st->filetype;
    clean.nlink = st->nlink;
    clean.size = st->size;
    clean.atim = clean.mtim = clean.ctim = st->mtim;
    memcpy(st, &clean, sizeof clean);
}

__wasi_errno_t __real___wasi_fd_fdstat_get(__wasi_fd_t fd, __wasi_fdstat_t *st);

__wasi_errno_t __wrap___wasi_fd_fdstat_get(__wasi_fd_t fd, __wasi_fdstat_t *st) {
    __wasi_errno_t e = __real___wasi_fd_fdstat_get(fd, st);
    if (wasi_py_in_initialize && e == 0) {
        __wasi_fdstat_t clean;
        memset(&clean, 0, sizeof clean);
        clean.fs_filetype = st->fs_filetype;
        clean.fs_flags = st->fs_flags;
        clean.fs_rights_base = st->fs_rights_base;
        clean.fs_rights_inheriting = st->fs_rights_inheriting;
        memcpy(st, &clean, sizeof clean);
    }
    return e;
}

__wasi_errno_t __wrap___wasi_fd_filestat_get(__wasi_fd_t fd, __wasi_filestat_t *st) {
    __wasi_errno_t e = __real___wasi_fd_filestat_get(fd, st);
    if (wasi_py_in_initialize && e == 0) blank_filestat(st);
    return e;
}

__wasi_errno_t __wrap___wasi_path_filestat_get(__wasi_fd_t fd, __wasi_lookupflags_t flags,
                                               const char *path, __wasi_filestat_t *st) {
    __wasi_errno_t e = __real___wasi_path_filestat_get(fd, flags, path, st);
    if (wasi_py_in_initialize && e == 0) blank_filestat(st);
    return e;
}

__wasi_errno_t __wrap___wasi_fd_readdir(__wasi_fd_t fd, uint8_t *buf, __wasi_size_t buf_len,
                                        __wasi_dircookie_t cookie, __wasi_size_t *used) {
    __wasi_errno_t e = __real___wasi_fd_readdir(fd, buf, buf_len, cookie, used);
    if (!wasi_py_in_initialize || e != 0) return e;
    /* Entries: a 24-byte __wasi_dirent_t then the name; the last one may be cut short. */
    size_t pos = 0;
    while (pos + sizeof(__wasi_dirent_t) <= *used) {
        __wasi_dirent_t d, clean;
        memcpy(&d, buf + pos, sizeof d);
        memset(&clean, 0, sizeof clean);
        clean.d_next = d.d_next;
        clean.d_namlen = d.d_namlen;
        clean.d_type = d.d_type;
        memcpy(buf + pos, &clean, sizeof clean);
        pos += sizeof d + d.d_namlen;
    }
    if (*used < buf_len) memset(buf + *used, 0, buf_len - *used);
    return e;
}

