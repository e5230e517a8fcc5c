// Fault injection for SQLite, for tests only (never linked into libtwospeed.so or twospeedd).
// A VFS wrapped around the default unix one fails the Nth I/O call of the kinds armed, and a
// memory allocator wrapped around SQLite's fails the Nth allocation: SQLite's own test harness
// does the same (test_vfs.c, test_malloc.c), which the system library does not ship.
#ifndef SQLITE_FAULT_H
#define SQLITE_FAULT_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
    TSFAULT_READ = 1,
    TSFAULT_WRITE = 2,
    TSFAULT_SYNC = 4,
    TSFAULT_TRUNCATE = 8,
};

/// Makes the wrapping VFS SQLite's default (idempotent). Connections opened after it go through it;
/// disarmed, it only counts. Returns SQLITE_OK or SQLite's error.
int tsfault_vfs_install(void);

/// Arms the VFS: the nth call (1-based) of the kinds in `mask` from now on fails with `code`
/// (SQLITE_IOERR_WRITE, SQLITE_FULL, ...); with `persist`, every call after it fails too.
void tsfault_io_arm(int mask, int nth, int code, int persist);
/// How many armed calls have failed since the last arm.
int tsfault_io_failures(void);
/// Calls of the armed kinds seen since the last arm (so a test can learn a sequence's length).
int tsfault_io_calls(void);
void tsfault_io_disarm(void);

/// Whether the allocator wrapper is in place: it must be configured before SQLite initializes,
/// which a constructor of this library does at load time.
int tsfault_malloc_installed(void);
/// The nth allocation (malloc or growing realloc) from now on returns NULL; with `persist`, all after too.
void tsfault_malloc_arm(int nth, int persist);
int tsfault_malloc_failures(void);
int tsfault_malloc_calls(void);
void tsfault_malloc_disarm(void);

#ifdef __cplusplus
}
#endif
#endif
