#include "sqlite_fault.h"
#include <sqlite3.h>
#include <stdatomic.h>
#include <string.h>

// ---- I/O faults: a VFS that forwards to the default one --------------------------------------------

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;
static atomic_int io_mask, io_nth, io_code, io_persist, io_calls, io_failures;

typedef struct {
    sqlite3_file base;
    sqlite3_file *real; // points just past this struct, where the real VFS keeps its file
} FaultFile;

#define REAL(f) (((FaultFile *)(f))->real)

// Counts a call of `kind`; returns the armed error code when this call is the one to fail, else 0.
static int fault_due(int kind) {
    if (!(atomic_load(&io_mask) & kind)) return 0;
    int n = atomic_fetch_add(&io_calls, 1) + 1;
    int nth = atomic_load(&io_nth);
    if (nth > 0 && (n == nth || (n > nth && atomic_load(&io_persist)))) {
        atomic_fetch_add(&io_failures, 1);
        return atomic_load(&io_code);
    }
    return 0;
}

static int f_close(sqlite3_file *f) {
    int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;
    f->pMethods = 0;
    return rc;
}
static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off) {
    int rc = fault_due(TSFAULT_READ);
    if (rc) return rc == SQLITE_IOERR ? SQLITE_IOERR_READ : rc;
    return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}
static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off) {
    int rc = fault_due(TSFAULT_WRITE);
    if (rc) return rc == SQLITE_IOERR ? SQLITE_IOERR_WRITE : rc;
    return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size) {
    int rc = fault_due(TSFAULT_TRUNCATE);
    if (rc) return rc == SQLITE_IOERR ? SQLITE_IOERR_TRUNCATE : rc;
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int f_sync(sqlite3_file *f, int flags) {
    int rc = fault_due(TSFAULT_SYNC);
    if (rc) return rc == SQLITE_IOERR ? SQLITE_IOERR_FSYNC : rc;
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int f_filesize(sqlite3_file *f, sqlite3_int64 *size) { return REAL(f)->pMethods->xFileSize(REAL(f), size); }
static int f_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int f_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int f_check_reserved(sqlite3_file *f, int *out) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out); }
static int f_file_control(sqlite3_file *f, int op, void *arg) { return REAL(f)->pMethods->xFileControl(REAL(f), op, arg); }
static int f_sector_size(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int f_device(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int f_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **pp) {
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, pp);
}
static int f_shm_lock(sqlite3_file *f, int off, int n, int flags) { return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags); }
static void f_shm_barrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int f_shm_unmap(sqlite3_file *f, int del) { return REAL(f)->pMethods->xShmUnmap(REAL(f), del); }
static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp) { return REAL(f)->pMethods->xFetch(REAL(f), off, amt, pp); }
static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p) { return REAL(f)->pMethods->xUnfetch(REAL(f), off, p); }

// One table per version of the real file's methods, so that SQLite sees what the real file offers.
static sqlite3_io_methods methods_v[4];

static int f_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags) {
    (void)vfs;
    FaultFile *ff = (FaultFile *)f;
    ff->real = (sqlite3_file *)(ff + 1);
    memset(ff->real, 0, real_vfs->szOsFile);
    int rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out_flags);
    if (ff->real->pMethods) {
        int v = ff->real->pMethods->iVersion;
        if (v > 3) v = 3;
        f->pMethods = &methods_v[v];
    } else {
        f->pMethods = 0;
    }
    return rc;
}

static int f_delete(sqlite3_vfs *v, const char *n, int sync) { (void)v; return real_vfs->xDelete(real_vfs, n, sync); }
static int f_access(sqlite3_vfs *v, const char *n, int fl, int *out) { (void)v; return real_vfs->xAccess(real_vfs, n, fl, out); }
static int f_full_path(sqlite3_vfs *v, const char *n, int sz, char *out) { (void)v; return real_vfs->xFullPathname(real_vfs, n, sz, out); }
static void *f_dlopen(sqlite3_vfs *v, const char *n) { (void)v; return real_vfs->xDlOpen(real_vfs, n); }
static void f_dlerror(sqlite3_vfs *v, int n, char *m) { (void)v; real_vfs->xDlError(real_vfs, n, m); }
static void (*f_dlsym(sqlite3_vfs *v, void *h, const char *s))(void) { (void)v; return real_vfs->xDlSym(real_vfs, h, s); }
static void f_dlclose(sqlite3_vfs *v, void *h) { (void)v; real_vfs->xDlClose(real_vfs, h); }
static int f_randomness(sqlite3_vfs *v, int n, char *out) { (void)v; return real_vfs->xRandomness(real_vfs, n, out); }
static int f_sleep(sqlite3_vfs *v, int us) { (void)v; return real_vfs->xSleep(real_vfs, us); }
static int f_current_time(sqlite3_vfs *v, double *t) { (void)v; return real_vfs->xCurrentTime(real_vfs, t); }
static int f_last_error(sqlite3_vfs *v, int n, char *m) { (void)v; return real_vfs->xGetLastError(real_vfs, n, m); }
static int f_current_time64(sqlite3_vfs *v, sqlite3_int64 *t) { (void)v; return real_vfs->xCurrentTimeInt64(real_vfs, t); }

int tsfault_vfs_install(void) {
    if (real_vfs) return SQLITE_OK;
    int rc = sqlite3_initialize();
    if (rc != SQLITE_OK) return rc;
    sqlite3_vfs *base = sqlite3_vfs_find(0);
    if (!base) return SQLITE_ERROR;
    for (int v = 1; v <= 3; v++) {
        sqlite3_io_methods *m = &methods_v[v];
        m->iVersion = v;
        m->xClose = f_close; m->xRead = f_read; m->xWrite = f_write; m->xTruncate = f_truncate;
        m->xSync = f_sync; m->xFileSize = f_filesize; m->xLock = f_lock; m->xUnlock = f_unlock;
        m->xCheckReservedLock = f_check_reserved; m->xFileControl = f_file_control;
        m->xSectorSize = f_sector_size; m->xDeviceCharacteristics = f_device;
        if (v >= 2) { m->xShmMap = f_shm_map; m->xShmLock = f_shm_lock; m->xShmBarrier = f_shm_barrier; m->xShmUnmap = f_shm_unmap; }
        if (v >= 3) { m->xFetch = f_fetch; m->xUnfetch = f_unfetch; }
    }
    fault_vfs = (sqlite3_vfs){0};
    fault_vfs.iVersion = base->iVersion < 2 ? base->iVersion : 2;
    fault_vfs.szOsFile = (int)sizeof(FaultFile) + base->szOsFile;
    fault_vfs.mxPathname = base->mxPathname;
    fault_vfs.zName = "tsfault";
    fault_vfs.xOpen = f_open; fault_vfs.xDelete = f_delete; fault_vfs.xAccess = f_access;
    fault_vfs.xFullPathname = f_full_path; fault_vfs.xDlOpen = f_dlopen; fault_vfs.xDlError = f_dlerror;
    fault_vfs.xDlSym = f_dlsym; fault_vfs.xDlClose = f_dlclose; fault_vfs.xRandomness = f_randomness;
    fault_vfs.xSleep = f_sleep; fault_vfs.xCurrentTime = f_current_time; fault_vfs.xGetLastError = f_last_error;
    if (fault_vfs.iVersion >= 2) fault_vfs.xCurrentTimeInt64 = f_current_time64;
    real_vfs = base;
    return sqlite3_vfs_register(&fault_vfs, 1);
}

void tsfault_io_arm(int mask, int nth, int code, int persist) {
    atomic_store(&io_mask, 0);
    atomic_store(&io_calls, 0);
    atomic_store(&io_failures, 0);
    atomic_store(&io_nth, nth);
    atomic_store(&io_code, code);
    atomic_store(&io_persist, persist);
    atomic_store(&io_mask, mask);
}
int tsfault_io_failures(void) { return atomic_load(&io_failures); }
int tsfault_io_calls(void) { return atomic_load(&io_calls); }
void tsfault_io_disarm(void) { atomic_store(&io_mask, 0); atomic_store(&io_nth, 0); }

// ---- Allocation faults: SQLite's allocator, wrapped -------------------------------------------------

static sqlite3_mem_methods real_mem;
static int mem_installed;
static atomic_int mem_armed, mem_nth, mem_persist, mem_calls, mem_failures;

static int mem_due(void) {
    if (!atomic_load(&mem_armed)) return 0;
    int n = atomic_fetch_add(&mem_calls, 1) + 1;
    int nth = atomic_load(&mem_nth);
    if (n == nth || (n > nth && atomic_load(&mem_persist))) {
        atomic_fetch_add(&mem_failures, 1);
        return 1;
    }
    return 0;
}
static void *m_malloc(int n) { return mem_due() ? 0 : real_mem.xMalloc(n); }
static void m_free(void *p) { real_mem.xFree(p); }
static void *m_realloc(void *p, int n) { return mem_due() ? 0 : real_mem.xRealloc(p, n); }
static int m_size(void *p) { return real_mem.xSize(p); }
static int m_roundup(int n) { return real_mem.xRoundup(n); }
static int m_init(void *a) { return real_mem.xInit(a); }
static void m_shutdown(void *a) { real_mem.xShutdown(a); }

// SQLITE_CONFIG_MALLOC is refused once SQLite has initialized, so it is set as the test bundle loads,
// before any test opens a database. Disarmed, the wrapper only forwards.
__attribute__((constructor)) static void tsfault_malloc_setup(void) {
    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem) != SQLITE_OK) return;
    sqlite3_mem_methods m = real_mem;
    m.xMalloc = m_malloc; m.xFree = m_free; m.xRealloc = m_realloc; m.xSize = m_size;
    m.xRoundup = m_roundup; m.xInit = m_init; m.xShutdown = m_shutdown; m.pAppData = real_mem.pAppData;
    mem_installed = sqlite3_config(SQLITE_CONFIG_MALLOC, &m) == SQLITE_OK;
}

int tsfault_malloc_installed(void) { return mem_installed; }
void tsfault_malloc_arm(int nth, int persist) {
    atomic_store(&mem_armed, 0);
    atomic_store(&mem_calls, 0);
    atomic_store(&mem_failures, 0);
    atomic_store(&mem_nth, nth);
    atomic_store(&mem_persist, persist);
    atomic_store(&mem_armed, 1);
}
int tsfault_malloc_failures(void) { return atomic_load(&mem_failures); }
int tsfault_malloc_calls(void) { return atomic_load(&mem_calls); }
void tsfault_malloc_disarm(void) { atomic_store(&mem_armed, 0); }
